import { useEffect, useState } from 'preact/hooks';
import { api, session } from './api.js';
import { KeysPage } from './keys-page.js';
import { SignIn } from './sign-in.js';

export interface SignedIn {
  apiKey: string;
  scopes: string[];
}

/** Signed out: the sign-in form. Signed in: the API Keys page. The key lives in sessionStorage only. */
export function App() {
  const [user, setUser] = useState<SignedIn | null>(null);
  const [restoring, setRestoring] = useState(() => session.get() !== null);

  useEffect(() => {
    const stored = session.get();
    if (!stored) return;
    // A reload keeps the tab's session: check the key is still good before showing anything.
    api.scopes(stored).then(
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
    <KeysPage
      user={user}
      onSignOut={() => {
        session.clear();
        setUser(null);
      }}
    />
  );
}
