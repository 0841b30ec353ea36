import type { ComponentChildren } from 'preact';
import type { Subuser } from './api.js';
import { hrefOf, type Route } from './route.js';

/** Set on the Create API Key button while a disabled subuser's keys are shown: why it is off. */
export const ACTING_DISABLED_ID = 'acting-disabled';

/**
 * What every signed-in page shares: the header (the console's navigation, when the key may see
 * subusers, and Sign out) and, while the console manages a subuser's keys, the banner naming
 * that subuser. The banner's region is always there, so its appearing is announced.
 */
export function Shell({
  route,
  showSubusers,
  acting,
  onSignOut,
  children,
}: {
  route: Route;
  /** The signed-in key holds `subusers.read`. */
  showSubusers: boolean;
  /** The subuser whose keys are shown, if any. */
  acting: Subuser | null;
  onSignOut: () => void;
  children: ComponentChildren;
}) {
  const onOwnKeys = route.view === 'keys' && route.subuser === undefined;
  return (
    <div class="page">
      <header>
        <div class="top">
          <p class="brand">Keygate</p>
          {showSubusers && (
            <nav aria-label="Console" class="nav">
              <a href={hrefOf({ view: 'keys' })} aria-current={onOwnKeys ? 'page' : undefined}>
                API Keys
              </a>
              {/* A subuser's keys are part of Subusers: that section stays current. */}
              <a
                href={hrefOf({ view: 'subusers' })}
                aria-current={
                  route.view === 'subusers'
                    ? 'page'
                    : route.subuser !== undefined
                      ? 'true'
                      : undefined
                }
              >
                Subusers
              </a>
            </nav>
          )}
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
        <div role="status" class={acting ? 'acting' : undefined}>
          {acting && <ActingBanner subuser={acting} />}
        </div>
      </header>
      {children}
    </div>
  );
}

function ActingBanner({ subuser }: { subuser: Subuser }) {
  return (
    <>
      <p class="acting-line">
        <span>
          Managing keys of subuser <strong class="acting-name">{subuser.username}</strong>
          {subuser.disabled && <span class="badge disabled">Disabled</span>}
        </span>
        <a href={hrefOf({ view: 'keys' })}>Back to your account</a>
      </p>
      {subuser.disabled && (
        <p id={ACTING_DISABLED_ID} class="acting-note">
          This subuser is disabled: its keys are refused, and no key can be created for it until it
          is enabled on the Subusers page. You can still edit, roll and delete its keys.
        </p>
      )}
    </>
  );
}
