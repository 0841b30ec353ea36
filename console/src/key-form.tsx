import { useEffect, useMemo, useState } from 'preact/hooks';
import { FormFooter } from './dialog.js';
import type { KeyLimitsText, LimitField } from './key-settings.js';
import {
  type AccessType,
  type Area,
  billingScopes,
  canGrant,
  fullAccessScopes,
  type Level,
  type Levels,
  restrictedAreas,
  scopesFor,
  scopesForRequest,
} from './permissions.js';

export interface KeyFormValue extends KeyLimitsText {
  name: string;
  type: AccessType;
  levels: Levels;
}

/** A problem to show: beside the expiry or allowlist field, or under the form (field null). */
export interface FormError {
  field: LimitField | null;
  message: string;
}

const FIELD_IDS: Record<LimitField, string> = {
  expires_at: 'key-expires',
  allowed_ips: 'key-allowed-ips',
};

/** The browser's time zone, named in the expiry hint (the input shows local wall-clock time). */
function timeZoneName(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
  } catch {
    return 'local time';
  }
}

const LEVELS: { level: Level; label: string }[] = [
  { level: 'none', label: 'No Access' },
  { level: 'read', label: 'Read Access' },
  { level: 'full', label: 'Full Access' },
];

const TYPES: { type: AccessType; label: string; description: string }[] = [
  {
    type: 'full',
    label: 'Full Access',
    description: 'Every part of the account your key can reach, except billing.',
  },
  {
    type: 'restricted',
    label: 'Restricted Access',
    description: 'Choose the access for each area.',
  },
  {
    type: 'billing',
    label: 'Billing Access',
    description: 'Billing only; a billing key can do nothing else.',
  },
];

const CANNOT = 'you cannot grant more than you have';

/**
 * Name and permissions of a key: the access type, and for Restricted Access one No / Read / Full
 * choice per area of the deployment. Choices the signed-in key could not grant are disabled,
 * with the reason; Billing Access is offered only where the deployment has billing areas. Then
 * the optional expiry and IP allowlist; their errors show beside them.
 */
export function KeyForm({
  initial,
  areas,
  callerScopes,
  submitLabel,
  busy,
  error,
  canExpire = true,
  onSubmit,
  onCancel,
}: {
  initial: KeyFormValue;
  /** The deployment's areas (`GET /v3/scopes/areas`). */
  areas: readonly Area[];
  callerScopes: readonly string[];
  submitLabel: string;
  busy: boolean;
  error: FormError | null;
  /** False for the owner key, which cannot expire. */
  canExpire?: boolean;
  onSubmit: (value: KeyFormValue, scopes: string[]) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(initial.name);
  const [type, setType] = useState<AccessType>(initial.type);
  const [levels, setLevels] = useState<Levels>(initial.levels);
  const [expires, setExpires] = useState(initial.expires);
  const [expiresIncomplete, setExpiresIncomplete] = useState(false);
  const [allowedIps, setAllowedIps] = useState(initial.allowedIps);
  const [problem, setProblem] = useState<FormError | null>(null);
  const held = useMemo(() => new Set(callerScopes), [callerScopes]);
  const rows = useMemo(() => restrictedAreas(areas), [areas]);
  const billing = useMemo(() => billingScopes(areas), [areas]);
  const full = useMemo(() => fullAccessScopes(areas, callerScopes), [areas, callerScopes]);
  const types = useMemo(
    () =>
      TYPES.filter((t) => t.type !== 'billing' || billing.length > 0).map((t) =>
        // Without billing areas there is no billing to leave out.
        t.type === 'full' && billing.length === 0
          ? { ...t, description: 'Every part of the account your key can reach.' }
          : t,
      ),
    [billing],
  );
  const zone = useMemo(timeZoneName, []);

  // A field the server refused gets the focus, so its message is read out where it belongs.
  useEffect(() => {
    if (error?.field) document.getElementById(FIELD_IDS[error.field])?.focus();
  }, [error]);

  const typeAllowed = (t: AccessType) =>
    t === 'billing' ? canGrant(held, billing) : t === 'full' ? full.length > 0 : true;

  function submit(event: Event) {
    event.preventDefault();
    const scopes = scopesForRequest(areas, type, levels, callerScopes);
    if (!name.trim()) return setProblem({ field: null, message: 'Give the key a name.' });
    if (type === 'restricted' && scopes.length === 0)
      return setProblem({ field: null, message: 'Choose at least one permission.' });
    if (expiresIncomplete) {
      document.getElementById(FIELD_IDS.expires_at)?.focus();
      return setProblem({
        field: 'expires_at',
        message: 'Enter a complete date and time, or clear the expiry.',
      });
    }
    setProblem(null);
    onSubmit({ name: name.trim(), type, levels, expires, allowedIps }, scopes);
  }

  const shown = problem ?? error;
  const message = shown?.field ? null : shown?.message;
  const expiresError = shown?.field === 'expires_at' ? shown.message : null;
  const ipsError = shown?.field === 'allowed_ips' ? shown.message : null;
  return (
    <form onSubmit={submit} noValidate>
      <label for="key-name">API Key Name</label>
      <input
        id="key-name"
        value={name}
        maxLength={100}
        required
        onInput={(e) => setName((e.target as HTMLInputElement).value)}
      />
      <fieldset class="types">
        <legend>API Key Permissions</legend>
        {types.map((t) => {
          const allowed = typeAllowed(t.type);
          return (
            <label key={t.type} class={allowed ? 'choice' : 'choice disabled'}>
              <input
                type="radio"
                name="access-type"
                value={t.type}
                checked={type === t.type}
                disabled={!allowed}
                onChange={() => setType(t.type)}
              />
              <span>
                <strong>{t.label}</strong>{' '}
                <span class="hint">{allowed ? t.description : CANNOT}</span>
              </span>
            </label>
          );
        })}
      </fieldset>
      {type === 'restricted' && (
        <fieldset class="picker">
          <legend class="sr-only">Access per area</legend>
          {rows.map((area) => (
            <fieldset key={area.id} class="category">
              <legend>{area.label}</legend>
              <div class="levels">
                {LEVELS.filter(
                  (l) => l.level === 'none' || scopesFor(area, l.level).length > 0,
                ).map((l) => {
                  const allowed = canGrant(held, scopesFor(area, l.level));
                  return (
                    <label key={l.level} class={allowed ? 'choice' : 'choice disabled'}>
                      <input
                        type="radio"
                        name={`level-${area.id}`}
                        value={l.level}
                        checked={(levels[area.id] ?? 'none') === l.level}
                        disabled={!allowed}
                        onChange={() => setLevels({ ...levels, [area.id]: l.level })}
                      />
                      {l.label}
                      {!allowed && <span class="reason"> ({CANNOT})</span>}
                    </label>
                  );
                })}
              </div>
            </fieldset>
          ))}
        </fieldset>
      )}
      <fieldset class="limits">
        <legend>Limits</legend>
        {canExpire ? (
          <>
            <label for="key-expires">Expires (optional)</label>
            <div class="inline-field">
              <input
                id="key-expires"
                type="datetime-local"
                value={expires}
                aria-invalid={expiresError ? 'true' : undefined}
                aria-describedby={
                  expiresError ? 'key-expires-error key-expires-hint' : 'key-expires-hint'
                }
                onInput={(e) => {
                  const input = e.target as HTMLInputElement;
                  setExpires(input.value);
                  setExpiresIncomplete(input.validity.badInput);
                }}
              />
              {expires && (
                <button
                  type="button"
                  onClick={() => {
                    setExpires('');
                    setExpiresIncomplete(false);
                    document.getElementById('key-expires')?.focus();
                  }}
                >
                  Clear expiry
                </button>
              )}
            </div>
            <p id="key-expires-hint" class="hint">
              Your time zone ({zone}). Empty: the key never expires.
            </p>
            {expiresError && (
              <p id="key-expires-error" class="error" role="alert">
                {expiresError}
              </p>
            )}
          </>
        ) : (
          <p class="hint">The owner key cannot expire; roll it instead.</p>
        )}
        <label for="key-allowed-ips">Allowed IP addresses (optional)</label>
        <textarea
          id="key-allowed-ips"
          rows={3}
          spellcheck={false}
          autoComplete="off"
          value={allowedIps}
          aria-invalid={ipsError ? 'true' : undefined}
          aria-describedby={ipsError ? 'key-allowed-ips-error key-ips-hint' : 'key-ips-hint'}
          onInput={(e) => setAllowedIps((e.target as HTMLTextAreaElement).value)}
        />
        <p id="key-ips-hint" class="hint">
          One IPv4 or IPv6 address or CIDR block per line, e.g. 203.0.113.0/24. Empty: any address
          may use the key.
        </p>
        {ipsError && (
          <p id="key-allowed-ips-error" class="error" role="alert">
            {ipsError}
          </p>
        )}
      </fieldset>
      <FormFooter
        error={message}
        busy={busy}
        busyLabel="Saving…"
        submitLabel={submitLabel}
        onCancel={onCancel}
      />
    </form>
  );
}
