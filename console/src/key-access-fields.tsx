import { useMemo } from 'preact/hooks';
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
} from './permissions.js';

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

/** The access types the deployment offers, each with whether the signed-in key can grant it. */
function typeChoices(
  areas: readonly Area[],
  callerScopes: readonly string[],
  held: ReadonlySet<string>,
) {
  const billing = billingScopes(areas);
  const full = fullAccessScopes(areas, callerScopes);
  return TYPES.filter((t) => t.type !== 'billing' || billing.length > 0).map((t) => ({
    // Without billing areas there is no billing to leave out.
    ...(t.type === 'full' && billing.length === 0
      ? { ...t, description: 'Every part of the account your key can reach.' }
      : t),
    allowed:
      t.type === 'billing' ? canGrant(held, billing) : t.type === 'full' ? full.length > 0 : true,
  }));
}

/**
 * Full, Restricted or Billing Access. A type the signed-in key could not grant is disabled,
 * with the reason; Billing Access is offered only where the deployment has billing areas.
 */
export function AccessTypeChooser({
  areas,
  callerScopes,
  held,
  value,
  onChange,
}: {
  areas: readonly Area[];
  callerScopes: readonly string[];
  held: ReadonlySet<string>;
  value: AccessType;
  onChange: (type: AccessType) => void;
}) {
  const choices = useMemo(
    () => typeChoices(areas, callerScopes, held),
    [areas, callerScopes, held],
  );
  return (
    <fieldset class="types">
      <legend>API Key Permissions</legend>
      {choices.map((t) => (
        <label key={t.type} class={t.allowed ? 'choice' : 'choice disabled'}>
          <input
            type="radio"
            name="access-type"
            value={t.type}
            checked={value === t.type}
            disabled={!t.allowed}
            onChange={() => onChange(t.type)}
          />
          <span>
            <strong>{t.label}</strong>{' '}
            <span class="hint">{t.allowed ? t.description : CANNOT}</span>
          </span>
        </label>
      ))}
    </fieldset>
  );
}

/** One area's No / Read / Full choice; a level the area does not define is left out. */
function AreaLevels({
  area,
  held,
  value,
  onChange,
}: {
  area: Area;
  held: ReadonlySet<string>;
  value: Level;
  onChange: (level: Level) => void;
}) {
  const offered = LEVELS.filter((l) => l.level === 'none' || scopesFor(area, l.level).length > 0);
  return (
    <fieldset class="category">
      <legend>{area.label}</legend>
      <div class="levels">
        {offered.map((l) => {
          const allowed = canGrant(held, scopesFor(area, l.level));
          return (
            <label key={l.level} class={allowed ? 'choice' : 'choice disabled'}>
              <input
                type="radio"
                name={`level-${area.id}`}
                value={l.level}
                checked={value === l.level}
                disabled={!allowed}
                onChange={() => onChange(l.level)}
              />
              {l.label}
              {!allowed && <span class="reason"> ({CANNOT})</span>}
            </label>
          );
        })}
      </div>
    </fieldset>
  );
}

/** Restricted Access: a level per area of the deployment, billing areas aside. */
export function AreaPermissionPicker({
  areas,
  held,
  levels,
  onChange,
}: {
  areas: readonly Area[];
  held: ReadonlySet<string>;
  levels: Levels;
  onChange: (levels: Levels) => void;
}) {
  const rows = useMemo(() => restrictedAreas(areas), [areas]);
  return (
    <fieldset class="picker">
      <legend class="sr-only">Access per area</legend>
      {rows.map((area) => (
        <AreaLevels
          key={area.id}
          area={area}
          held={held}
          value={levels[area.id] ?? 'none'}
          onChange={(level) => onChange({ ...levels, [area.id]: level })}
        />
      ))}
    </fieldset>
  );
}
