import { useState } from 'preact/hooks';
import { startSsoSignIn, type SsoSettings } from '../auth/oidc';
import { ErrorText } from '../ui/dialog';

/** Two ways in: the customer's identity provider (when configured), or a user-level key. */
export function SignInPage(props: { sso: SsoSettings | null; message: string | null; onKey: (key: string) => Promise<string | null> }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(props.message);
  const signInWithKey = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) return setError('Paste a user-level key first.');
    setBusy(true);
    setError(null);
    const refused = await props.onKey(trimmed);
    if (refused) {
      setError(refused);
      setBusy(false);
    }
  };
  const signInWithSso = async () => {
    setBusy(true);
    setError(null);
    try {
      await startSsoSignIn(props.sso!, location.pathname);
    } catch {
      setError("The identity provider can't be reached. Try again, or sign in with a key.");
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to manage API keys</h1>
      <ErrorText message={error} />
      {props.sso && (
        <>
          <button type="button" class="wide" disabled={busy} onClick={() => void signInWithSso()}>
            Sign in with SSO
          </button>
          <p class="divider">
            <span>or</span>
          </p>
        </>
      )}
      <form onSubmit={(event) => void signInWithKey(event)}>
        <label for="user-key">User-level API key</label>
        <input
          id="user-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
          aria-describedby="user-key-hint"
        />
        <p id="user-key-hint" class="hint">
          Starts with <code>usk_</code>. It stays in this browser tab only and is forgotten when you sign out or close the tab.
        </p>
        <button type="submit" class="wide secondary" disabled={busy}>
          Sign in with key
        </button>
      </form>
    </main>
  );
}
