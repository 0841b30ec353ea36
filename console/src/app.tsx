import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type Subuser, session, subusersApi } from './api.js';
import { KeysPage } from './keys-page.js';
import { RetryAlert } from './retry-alert.js';
import { hrefOf, type Route, resetRoute, usePageHeading, useRoute } from './route.js';
import type { SignedIn } from './session.js';
import { Shell } from './shell.js';
import { SignIn } from './sign-in.js';
import { SubusersPage } from './subusers-page.js';

export type { SignedIn };

/**
 * Signed out: the sign-in form. Signed in: the API Keys page, and the Subusers page when the key
 * may read subusers. The key lives in sessionStorage only.
 */
export function App() {
  const [user, setUser] = useState<SignedIn | null>(null);
  const [restoring, setRestoring] = useState(() => session.get() !== null);
  const route = useRoute();

  useEffect(() => {
    const stored = session.get();
    if (!stored) return;
    // A reload keeps the tab's session: check the key is still good before showing anything.
    api.scopes({ apiKey: stored }).then(
      ({ scopes }) => {
        setUser({ apiKey: stored, scopes });
        setRestoring(false);
      },
      () => {
        session.clear();
        setRestoring(false);
      },
    );
  }, []);

  if (restoring) {
    return (
      <main class="page" aria-busy="true">
        <p role="status">Loading…</p>
      </main>
    );
  }
  if (!user) {
    return (
      <SignIn
        onSignedIn={(signedIn) => {
          session.set(signedIn.apiKey);
          setUser(signedIn);
        }}
      />
    );
  }
  return (
    <Pages
      user={user}
      route={route}
      onSignOut={() => {
        session.clear();
        // The next key starts on its own keys, never on a subuser this one managed.
        resetRoute();
        setUser(null);
      }}
    />
  );
}

/** The subuser a view names, once the API confirmed it is the signed-in account's. */
type Lookup =
  | { state: 'none' }
  | { state: 'loading' }
  | { state: 'found'; subuser: Subuser }
  | { state: 'missing'; name: string }
  | { state: 'failed'; message: string };

function useSubuser(apiKey: string, name: string | undefined): [Lookup, () => void] {
  const [lookup, setLookup] = useState<Lookup>({ state: name === undefined ? 'none' : 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (name === undefined) return setLookup({ state: 'none' });
    let current = true;
    setLookup({ state: 'loading' });
    // Names are unique whatever the case: the list by prefix holds the one asked for.
    subusersApi.list(apiKey, { username: name }).then(
      (found) => {
        if (!current) return;
        const subuser = found.find((s) => s.username.toLowerCase() === name.toLowerCase());
        setLookup(subuser ? { state: 'found', subuser } : { state: 'missing', name });
      },
      (e: unknown) => {
        if (!current) return;
        const message = e instanceof ApiError ? e.message : 'The subuser could not be loaded.';
        setLookup({ state: 'failed', message });
      },
    );
    return () => {
      current = false;
    };
  }, [apiKey, name, attempt]);
  return [lookup, () => setAttempt((n) => n + 1)];
}

/** The signed-in pages: the view the fragment names, if the key may see it. */
function Pages({
  user,
  route,
  onSignOut,
}: {
  user: SignedIn;
  route: Route;
  onSignOut: () => void;
}) {
  const showSubusers = user.scopes.includes('subusers.read');
  // Without `subusers.read` there is one page: the key's own API keys.
  const shown: Route = showSubusers ? route : { view: 'keys' };
  const name = shown.view === 'keys' ? shown.subuser : undefined;
  const [lookup, retry] = useSubuser(user.apiKey, name);
  // Only the subuser the view names: a lookup of the view before never shows.
  const acting =
    lookup.state === 'found' && lookup.subuser.username.toLowerCase() === name?.toLowerCase()
      ? lookup.subuser
      : null;

  let page: ComponentChildren;
  if (shown.view === 'subusers') page = <SubusersPage user={user} />;
  else if (name === undefined) page = <KeysPage key="own" user={user} subuser={null} />;
  else if (acting) page = <KeysPage key={`of:${acting.username}`} user={user} subuser={acting} />;
  else page = <SubuserLookup lookup={lookup} onRetry={retry} />;
  return (
    <Shell route={shown} showSubusers={showSubusers} acting={acting} onSignOut={onSignOut}>
      {page}
    </Shell>
  );
}

/** While the subuser of a view is looked up, or when it is not one of the account's. */
function SubuserLookup({ lookup, onRetry }: { lookup: Lookup; onRetry: () => void }) {
  if (lookup.state === 'missing' || lookup.state === 'failed') {
    return <SubuserProblem lookup={lookup} onRetry={onRetry} />;
  }
  return (
    <main aria-busy="true">
      <p role="status">Loading subuser…</p>
    </main>
  );
}

function SubuserProblem({
  lookup,
  onRetry,
}: {
  lookup: Extract<Lookup, { state: 'missing' | 'failed' }>;
  onRetry: () => void;
}) {
  const title = lookup.state === 'missing' ? 'Subuser not found' : 'API Keys';
  const heading = usePageHeading(title);
  return (
    <main>
      <div class="title">
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
      </div>
      {lookup.state === 'missing' ? (
        <p>
          Your account has no subuser named <strong>{lookup.name}</strong>.{' '}
          <a href={hrefOf({ view: 'subusers' })}>Back to Subusers</a>
        </p>
      ) : (
        <RetryAlert message={lookup.message} onRetry={onRetry} />
      )}
    </main>
  );
}
