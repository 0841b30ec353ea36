import { useEffect, useState } from 'preact/hooks';
import type { KeyLimitsText, LimitField } from './key-settings.js';
import { type OwnLimitsText, parseOwnLimits } from './key-usage.js';
import { type AccessType, type Area, type Levels, scopesForRequest } from './permissions.js';

export interface KeyFormValue extends KeyLimitsText, OwnLimitsText {
  name: string;
  type: AccessType;
  levels: Levels;
}

/** A problem to show: beside the expiry or allowlist field, or under the form (field null). */
export interface FormError {
  field: LimitField | null;
  message: string;
}

export const FIELD_IDS: Record<LimitField, string> = {
  expires_at: 'key-expires',
  allowed_ips: 'key-allowed-ips',
  // The first of the limits' inputs: a refusal of them is read out from there.
  limits: 'key-rate-per-second',
};

/**
 * The expiry input's text, and whether the browser holds a half-typed date it cannot report
 * (`validity.badInput`): the value alone reads empty then, as if the expiry were cleared.
 */
export interface ExpiryInput {
  value: string;
  incomplete: boolean;
}

/** What the key form's state starts from and hands its value to. */
export interface KeyFormOptions {
  initial: KeyFormValue;
  /** The deployment's areas (`GET /v3/scopes/areas`). */
  areas: readonly Area[];
  callerScopes: readonly string[];
  /** The server's refusal of the last submit. */
  error: FormError | null;
  onSubmit: (value: KeyFormValue, scopes: string[]) => void;
}

/** The messages each place of the form shows. */
export interface KeyFormMessages {
  form: string | null | undefined;
  expires: string | null;
  allowedIps: string | null;
  limits: string | null;
}

function focusField(field: LimitField): void {
  document.getElementById(FIELD_IDS[field])?.focus();
}

/** What stops a submit before it reaches the server, or null when nothing does. */
function findProblem(
  value: KeyFormValue,
  scopes: readonly string[],
  expiry: ExpiryInput,
): FormError | null {
  if (!value.name.trim()) return { field: null, message: 'Give the key a name.' };
  if (value.type === 'restricted' && scopes.length === 0)
    return { field: null, message: 'Choose at least one permission.' };
  if (expiry.incomplete)
    return { field: 'expires_at', message: 'Enter a complete date and time, or clear the expiry.' };
  const limits = parseOwnLimits(value);
  if (!limits.ok) return { field: 'limits', message: limits.message };
  return null;
}

function messagesOf(shown: FormError | null): KeyFormMessages {
  return {
    form: shown?.field ? null : shown?.message,
    expires: shown?.field === 'expires_at' ? shown.message : null,
    allowedIps: shown?.field === 'allowed_ips' ? shown.message : null,
    limits: shown?.field === 'limits' ? shown.message : null,
  };
}

/**
 * The key form's state: its fields, the submit that checks them before handing them on, and
 * the messages to show (the form's own check first, then the server's refusal).
 */
export function useKeyForm({ initial, areas, callerScopes, error, onSubmit }: KeyFormOptions) {
  const [name, setName] = useState(initial.name);
  const [type, setType] = useState<AccessType>(initial.type);
  const [levels, setLevels] = useState<Levels>(initial.levels);
  const [expiry, setExpiry] = useState<ExpiryInput>({ value: initial.expires, incomplete: false });
  const [allowedIps, setAllowedIps] = useState(initial.allowedIps);
  const [ownLimits, setOwnLimits] = useState<OwnLimitsText>({
    perSecond: initial.perSecond,
    burst: initial.burst,
    perDay: initial.perDay,
    perMonth: initial.perMonth,
  });
  const [problem, setProblem] = useState<FormError | null>(null);

  // A field the server refused gets the focus, so its message is read out where it belongs.
  useEffect(() => {
    if (error?.field) focusField(error.field);
  }, [error]);

  function submit(event: Event) {
    event.preventDefault();
    const value = { name, type, levels, expires: expiry.value, allowedIps, ...ownLimits };
    const scopes = scopesForRequest(areas, type, levels, callerScopes);
    const found = findProblem(value, scopes, expiry);
    if (found?.field) focusField(found.field);
    setProblem(found);
    if (!found) onSubmit({ ...value, name: name.trim() }, scopes);
  }

  const fields = { name, type, levels, expiry, allowedIps, ownLimits };
  const setters = { setName, setType, setLevels, setExpiry, setAllowedIps, setOwnLimits };
  return { ...fields, ...setters, submit, messages: messagesOf(problem ?? error) };
}
