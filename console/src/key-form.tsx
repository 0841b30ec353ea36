import { useMemo, useState } from 'preact/hooks';
import {
  type AccessType,
  BILLING_SCOPES,
  canGrant,
  type Level,
  type Levels,
  PICKER_CATEGORIES,
  scopesFor,
  scopesForRequest,
} from './permissions.js';

export interface KeyFormValue {
  name: string;
  type: AccessType;
  levels: Levels;
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
 * choice per category of the catalogue. Choices the signed-in key could not grant are disabled,
 * with the reason.
 */
export function KeyForm({
  initial,
  callerScopes,
  submitLabel,
  busy,
  error,
  onSubmit,
  onCancel,
}: {
  initial: KeyFormValue;
  callerScopes: readonly string[];
  submitLabel: string;
  busy: boolean;
  error: string | null;
  onSubmit: (value: KeyFormValue, scopes: string[]) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(initial.name);
  const [type, setType] = useState<AccessType>(initial.type);
  const [levels, setLevels] = useState<Levels>(initial.levels);
  const [problem, setProblem] = useState<string | null>(null);
  const held = useMemo(() => new Set(callerScopes), [callerScopes]);

  const typeAllowed = (t: AccessType) =>
    t === 'billing'
      ? canGrant(held, BILLING_SCOPES)
      : t === 'full'
        ? callerScopes.length > 0
        : true;

  function submit(event: Event) {
    event.preventDefault();
    const scopes = scopesForRequest(type, levels, callerScopes);
    if (!name.trim()) return setProblem('Give the key a name.');
    if (type === 'restricted' && scopes.length === 0)
      return setProblem('Choose at least one permission.');
    setProblem(null);
    onSubmit({ name: name.trim(), type, levels }, scopes);
  }

  const message = problem ?? error;
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
        {TYPES.map((t) => {
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
          {PICKER_CATEGORIES.map((category) => (
            <fieldset key={category.name} class="category">
              <legend>{category.name}</legend>
              <div class="levels">
                {LEVELS.filter(
                  (l) => l.level === 'none' || scopesFor(category, l.level).length > 0,
                ).map((l) => {
                  const allowed = canGrant(held, scopesFor(category, l.level));
                  return (
                    <label key={l.level} class={allowed ? 'choice' : 'choice disabled'}>
                      <input
                        type="radio"
                        name={`level-${category.name}`}
                        value={l.level}
                        checked={(levels[category.name] ?? 'none') === l.level}
                        disabled={!allowed}
                        onChange={() => setLevels({ ...levels, [category.name]: l.level })}
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
      {message && (
        <p class="error" role="alert">
          {message}
        </p>
      )}
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Saving…' : submitLabel}
        </button>
      </div>
    </form>
  );
}
