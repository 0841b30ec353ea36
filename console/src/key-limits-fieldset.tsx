import { useMemo } from 'preact/hooks';
import { type ExpiryInput, FIELD_IDS, type KeyFormMessages } from './key-form-state.js';

/** The browser's time zone, named in the expiry hint (the input shows local wall-clock time). */
function timeZoneName(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
  } catch {
    return 'local time';
  }
}

function ExpiryField({
  value,
  error,
  onChange,
}: {
  value: string;
  error: string | null;
  onChange: (expiry: ExpiryInput) => void;
}) {
  const zone = useMemo(timeZoneName, []);
  const id = FIELD_IDS.expires_at;
  return (
    <>
      <label for={id}>Expires (optional)</label>
      <div class="inline-field">
        <input
          id={id}
          type="datetime-local"
          value={value}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'key-expires-error key-expires-hint' : 'key-expires-hint'}
          onInput={(e) => {
            const input = e.target as HTMLInputElement;
            onChange({ value: input.value, incomplete: input.validity.badInput });
          }}
        />
        {value && (
          <button
            type="button"
            onClick={() => {
              onChange({ value: '', incomplete: false });
              document.getElementById(id)?.focus();
            }}
          >
            Clear expiry
          </button>
        )}
      </div>
      <p id="key-expires-hint" class="hint">
        Your time zone ({zone}). Empty: the key never expires.
      </p>
      {error && (
        <p id="key-expires-error" class="error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}

function AllowedIpsField({
  value,
  error,
  onChange,
}: {
  value: string;
  error: string | null;
  onChange: (text: string) => void;
}) {
  const id = FIELD_IDS.allowed_ips;
  return (
    <>
      <label for={id}>Allowed IP addresses (optional)</label>
      <textarea
        id={id}
        rows={3}
        spellcheck={false}
        autoComplete="off"
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? 'key-allowed-ips-error key-ips-hint' : 'key-ips-hint'}
        onInput={(e) => onChange((e.target as HTMLTextAreaElement).value)}
      />
      <p id="key-ips-hint" class="hint">
        One IPv4 or IPv6 address or CIDR block per line, e.g. 203.0.113.0/24. Empty: any address may
        use the key.
      </p>
      {error && (
        <p id="key-allowed-ips-error" class="error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}

/** The optional expiry and IP allowlist, each with its error beside it. */
export function KeyLimitsFieldset({
  canExpire,
  expiry,
  allowedIps,
  messages,
  onExpiry,
  onAllowedIps,
}: {
  /** False for the owner key, which cannot expire. */
  canExpire: boolean;
  expiry: ExpiryInput;
  allowedIps: string;
  messages: KeyFormMessages;
  onExpiry: (expiry: ExpiryInput) => void;
  onAllowedIps: (text: string) => void;
}) {
  return (
    <fieldset class="limits">
      <legend>Limits</legend>
      {canExpire ? (
        <ExpiryField value={expiry.value} error={messages.expires} onChange={onExpiry} />
      ) : (
        <p class="hint">The owner key cannot expire; roll it instead.</p>
      )}
      <AllowedIpsField value={allowedIps} error={messages.allowedIps} onChange={onAllowedIps} />
    </fieldset>
  );
}
