import { useState } from 'preact/hooks';
import { ApiError, api } from './api.js';
import type { SignedIn } from './session.js';

const NEEDED = ['api_keys.read'];

/** Sign in by pasting a key that may manage API keys. */
export function SignIn({ onSignedIn }: { onSignedIn: (user: SignedIn) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    const apiKey = key.trim();
    if (!apiKey) {
      setError('Paste an API key to sign in.');
      return;
    }
    setBusy(true);
    try {
      const { scopes } = await api.scopes({ apiKey });
      if (!NEEDED.every((s) => scopes.includes(s))) {
        setError('That key works, but it cannot manage API keys: it needs the api_keys scopes.');
        return;
      }
      onSignedIn({ apiKey, scopes });
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Sign-in failed.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="page narrow">
      <h1>Keygate</h1>
      <form class="card" onSubmit={submit} noValidate>
        <h2>Sign in</h2>
        <p>
          Paste an API key that holds the <code>api_keys</code> scopes: the owner key, or a
          restricted admin key.
        </p>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'sign-in-error' : 'sign-in-hint'}
        />
        <p id="sign-in-hint" class="hint">
          The key stays in this tab only and is forgotten when you sign out.
        </p>
        {error && (
          <p id="sign-in-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
