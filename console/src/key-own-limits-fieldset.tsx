import type { OwnLimitsText } from './key-usage.js';

const FIELDS: readonly {
  name: keyof OwnLimitsText;
  id: string;
  label: string;
  inputMode: 'decimal' | 'numeric';
}[] = [
  {
    name: 'perSecond',
    id: 'key-rate-per-second',
    label: 'Requests per second',
    inputMode: 'decimal',
  },
  { name: 'burst', id: 'key-rate-burst', label: 'Burst', inputMode: 'numeric' },
  { name: 'perDay', id: 'key-quota-day', label: 'Requests per day', inputMode: 'numeric' },
  { name: 'perMonth', id: 'key-quota-month', label: 'Requests per month', inputMode: 'numeric' },
];

/**
 * The key's own rate limit (requests per second, with a burst) and quotas (per UTC day and
 * month), each optional; the account's plan applies as well. The API refuses limits looser
 * than the signed-in key's own; the message then shows here.
 */
export function OwnLimitsFieldset({
  value,
  error,
  onChange,
}: {
  value: OwnLimitsText;
  error: string | null;
  onChange: (value: OwnLimitsText) => void;
}) {
  const describedBy = error ? 'key-own-limits-error key-own-limits-hint' : 'key-own-limits-hint';
  return (
    <fieldset class="limits own-limits" aria-describedby={describedBy}>
      <legend>Rate limit and quotas (optional)</legend>
      <p id="key-own-limits-hint" class="hint">
        Empty: only the account's plan limits the key. A rate needs both numbers; quotas reset at
        00:00 UTC and on the 1st of the month.
      </p>
      <div class="limit-grid">
        {FIELDS.map((field) => (
          <div key={field.name}>
            <label for={field.id}>{field.label}</label>
            <input
              id={field.id}
              inputMode={field.inputMode}
              autoComplete="off"
              value={value[field.name]}
              aria-invalid={error ? 'true' : undefined}
              aria-describedby={error ? 'key-own-limits-error' : undefined}
              onInput={(e) =>
                onChange({ ...value, [field.name]: (e.target as HTMLInputElement).value })
              }
            />
          </div>
        ))}
      </div>
      {error && (
        <p id="key-own-limits-error" class="error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
