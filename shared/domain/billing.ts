import { DEFAULT_PLAN } from './accounts.js';
import type { Caller } from './caller.js';
import { BadRequestError, fail, ok, type Result, ServiceUnavailableError } from './errors.js';
import type { BillingProfileRecord, Deps } from './ports.js';

/**
 * The billing contact's fields, in the order answers list them. They are SendGrid's names, and
 * the account item stores the contact under them too.
 */
export const CONTACT_FIELDS = [
  'first_name',
  'last_name',
  'email',
  'company',
  'address1',
  'address2',
  'city',
  'state',
  'zip',
  'country',
  'phone',
] as const;

export type ContactField = (typeof CONTACT_FIELDS)[number];

export const EMPTY_UPDATE_MESSAGE = `request body must set or clear at least one of: ${CONTACT_FIELDS.join(', ')}`;

/** A change of the contact: a string sets a field, `null` clears it, an omitted field is kept. */
export type ContactChange = Partial<Record<ContactField, string | null>>;

/** An account's plan (the deployment's default when it has none) and billing contact. */
export interface BillingProfile {
  plan: string;
  contact: Partial<Record<ContactField, string>>;
  updatedAt: string | null;
}

/**
 * The caller's account's plan and billing contact. The route admits only the owner key and
 * billing keys holding `billing.read`; the account is always the caller's own.
 */
export async function getBillingProfile(
  deps: Deps,
  caller: Caller,
): Promise<Result<BillingProfile>> {
  const profile = await deps.repo.getBillingProfile(caller.accountId);
  // The authorizer vouched for this account moments ago: its disappearance is not the caller's
  // fault, and saying "not found" would be misleading.
  if (!profile) return fail(new ServiceUnavailableError());
  return ok(profileOf(profile));
}

/**
 * Applies a partial update to the billing contact: a string sets a field, `null` clears it, an
 * omitted field is kept. One conditional write; the plan is not the caller's to change (the
 * request schema refuses it). Returns the whole profile after the write.
 */
export async function updateBillingProfile(
  deps: Deps,
  caller: Caller,
  input: ContactChange,
): Promise<Result<BillingProfile>> {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const field of CONTACT_FIELDS) {
    const value = input[field];
    if (value === null) remove.push(field);
    else if (value !== undefined) set[field] = value;
  }
  if (remove.length === 0 && Object.keys(set).length === 0) {
    return fail(new BadRequestError(EMPTY_UPDATE_MESSAGE));
  }
  const updated = await deps.repo.updateBillingContact(
    caller.accountId,
    { set, remove },
    deps.now().toISOString(),
  );
  if (!updated) return fail(new ServiceUnavailableError());
  return ok(profileOf(updated));
}

function profileOf(profile: BillingProfileRecord): BillingProfile {
  const contact: BillingProfile['contact'] = {};
  for (const field of CONTACT_FIELDS) {
    const value = profile.contact[field];
    if (value !== undefined) contact[field] = value;
  }
  return { plan: profile.plan ?? DEFAULT_PLAN, contact, updatedAt: profile.updatedAt ?? null };
}
