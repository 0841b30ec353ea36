import { BadRequestError, ConflictError, fail, ok, type Result } from './errors.js';
import { generateApiKey, hashApiKey, randomId } from './key-format.js';
import type { AccountRecord, Deps, KeyRecord } from './ports.js';

export const ACCOUNT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const OWNER_KEY_NAME = 'Owner key';
/** Plan names follow the account-name rules. */
export const PLAN_NAME_PATTERN = ACCOUNT_NAME_PATTERN;
export const PLAN_NAME_MESSAGE =
  'plan names are 1-63 lowercase letters, digits, "-" or "_", starting with a letter or digit';
/** The plan of an account bootstrapped without one (and of accounts stored before plans). */
export const DEFAULT_PLAN = 'free';

export interface BootstrappedAccount {
  accountId: string;
  keyId: string;
  /** The owner key, shown once. */
  apiKey: string;
}

/**
 * Creates an account and its owner key. The owner key holds every scope of the catalogue,
 * billing included (SendGrid's logged-in user), does not count against the key limit, and is
 * the only key that can hold billing and other scopes together. It cannot be made through the
 * API: operators call this (the CLI, the local runtime's first start).
 *
 * @example
 * const { accountId, apiKey } = unwrap(await bootstrapAccount(deps, { name: 'acme' }));
 */
export async function bootstrapAccount(
  deps: Deps,
  input: {
    name: string;
    keyLimit?: number;
    plan?: string;
    maxKeyLifetimeSeconds?: number;
    subuserLimit?: number;
  },
): Promise<Result<BootstrappedAccount>> {
  if (!ACCOUNT_NAME_PATTERN.test(input.name)) {
    return fail(
      new BadRequestError(
        'account names are 1-63 lowercase letters, digits, "-" or "_", starting with a letter or digit',
        'name',
      ),
    );
  }
  const keyLimit = input.keyLimit ?? deps.config.defaultKeyLimit;
  if (!Number.isSafeInteger(keyLimit) || keyLimit < 0) {
    return fail(new BadRequestError('keyLimit must be a non-negative integer', 'keyLimit'));
  }
  const subuserLimit = input.subuserLimit ?? deps.config.defaultSubuserLimit;
  if (!Number.isSafeInteger(subuserLimit) || subuserLimit < 0) {
    return fail(new BadRequestError('subuserLimit must be a non-negative integer', 'subuserLimit'));
  }
  const lifetime = input.maxKeyLifetimeSeconds;
  if (lifetime !== undefined && (!Number.isSafeInteger(lifetime) || lifetime < 60)) {
    return fail(
      new BadRequestError(
        'maxKeyLifetimeSeconds must be an integer of at least 60',
        'maxKeyLifetimeSeconds',
      ),
    );
  }
  const plan = input.plan ?? DEFAULT_PLAN;
  if (!PLAN_NAME_PATTERN.test(plan)) {
    return fail(new BadRequestError(PLAN_NAME_MESSAGE, 'plan'));
  }
  const { apiKey, keyId } = generateApiKey(deps.config.keyPrefix);
  const now = deps.now().toISOString();
  const account: AccountRecord = {
    accountId: randomId(),
    name: input.name,
    keyLimit,
    keyCount: 0,
    ownerKeyId: keyId,
    plan,
    ...(input.maxKeyLifetimeSeconds === undefined
      ? {}
      : { maxKeyLifetimeSeconds: input.maxKeyLifetimeSeconds }),
    createdAt: now,
    subuserLimit,
    subuserCount: 0,
    stateVersion: 0,
  };
  const ownerKey: KeyRecord = {
    keyId,
    accountId: account.accountId,
    name: OWNER_KEY_NAME,
    scopes: [...deps.config.catalogue.all],
    type: 'owner',
    keyHash: hashApiKey(apiKey),
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  const created = await deps.repo.createAccount(account, ownerKey);
  if (!created.ok) return fail(new ConflictError(`account "${input.name}" already exists`));
  return ok({ accountId: account.accountId, keyId, apiKey });
}
