import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiClient } from './api/client';
import { ApiProblem, messageOf } from './api/errors';
import { USER_KEYS_SCOPE } from './api/types';
import { completeSsoSignIn, isSsoCallback, type SsoSettings } from './auth/oidc';
import { clearSession, keyLabel, loadSession, saveSession, type Session } from './auth/session';
import { KeysPanel } from './keys/keys-panel';
import { ChatbotSettingsPage } from './pages/chatbot-settings';
import { ChatbotsPage } from './pages/chatbots';
import { KeyUsagePage } from './pages/key-usage';
import { SignInPage } from './pages/sign-in';
import { navigate, onLinkClick, routeOf, usePath } from './router';

export interface ConsoleSettings {
  sso: SsoSettings | null;
}

/** What the signed-in caller may do: owners and admins also manage the account's user-level keys. */
type Access = { manager: boolean };

/**
 * Learns the caller's role the one way the API tells it: listing user-level keys is for owners
 * and admins, a member gets 403 forbidden. Any other refusal means the credential is not usable.
 */
async function accessOf(api: ApiClient): Promise<Access> {
  try {
    await api.get(USER_KEYS_SCOPE.apiPath);
    return { manager: true };
  } catch (caught) {
    if (caught instanceof ApiProblem && caught.code === 'forbidden') return { manager: false };
    throw caught;
  }
}

export function App({ settings }: { settings: ConsoleSettings }) {
  const path = usePath();
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [access, setAccess] = useState<Access | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const signOut = (reason: string | null = null) => {
    clearSession();
    setSession(null);
    setAccess(null);
    setMessage(reason);
  };
  const api = useMemo(() => (session ? new ApiClient(session, (reason) => signOut(reason)) : null), [session]);

  useEffect(() => {
    if (!isSsoCallback() || !settings.sso) return;
    completeSsoSignIn(settings.sso).then(
      ({ session: signedIn, returnTo }) => {
        saveSession(signedIn);
        setSession(signedIn);
        navigate(returnTo.startsWith('/console/') && returnTo !== '/console/callback' ? returnTo : '/console/', { replace: true });
      },
      (caught: Error) => {
        navigate('/console/', { replace: true });
        setMessage(`SSO sign-in failed: ${caught.message}`);
      },
    );
  }, []);

  useEffect(() => {
    if (!api) return;
    accessOf(api).then(setAccess, (caught) => signOut(messageOf(caught)));
  }, [api]);

  if (isSsoCallback() && !session) return <p class="loading">Finishing sign-in…</p>;
  if (!session || !api) {
    return (
      <SignInPage
        sso={settings.sso}
        message={message}
        onKey={async (key) => {
          const candidate: Session = { kind: 'key', token: key, label: keyLabel(key) };
          let refusal: string | null = null;
          const probe = new ApiClient(candidate, () => undefined);
          try {
            const found = await accessOf(probe);
            saveSession(candidate);
            setMessage(null);
            setSession(candidate);
            setAccess(found);
          } catch (caught) {
            refusal = messageOf(caught);
          }
          return refusal;
        }}
      />
    );
  }

  const route = routeOf(path);
  return (
    <>
      <a href="#main" class="skip">
        Skip to content
      </a>
      <header class="topbar">
        <a href="/console/" onClick={onLinkClick} class="brand">
          chatbot-keys
        </a>
        <nav aria-label="Main">
          <a href="/console/" onClick={onLinkClick} aria-current={route.page === 'chatbots' ? 'page' : undefined}>
            Chatbots
          </a>
          {access?.manager && (
            <a href={USER_KEYS_SCOPE.pagePath} onClick={onLinkClick} aria-current={route.page === 'account-keys' ? 'page' : undefined}>
              Account keys
            </a>
          )}
        </nav>
        <span class="who" title={session.kind === 'sso' ? 'Signed in with SSO' : 'Signed in with a user-level key'}>
          {session.label}
        </span>
        <button type="button" class="secondary" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      {!access ? (
        <p class="loading">Loading…</p>
      ) : route.page === 'chatbots' ? (
        <ChatbotsPage api={api} manager={access.manager} />
      ) : route.page === 'chatbot-keys' ? (
        <ChatbotSettingsPage api={api} chatbotId={route.chatbotId} />
      ) : route.page === 'key-usage' ? (
        <KeyUsagePage api={api} chatbotId={route.chatbotId} keyId={route.keyId} />
      ) : route.page === 'account-keys' && access.manager ? (
        <main id="main">
          <KeysPanel
            api={api}
            scope={USER_KEYS_SCOPE}
            intro="Account-wide keys: each reaches every chatbot of the account and the account's API. Treat them like passwords."
          />
        </main>
      ) : (
        <main id="main">
          <h1>Page not found</h1>
          <p>
            <a href="/console/" onClick={onLinkClick}>
              Go to your chatbots
            </a>
          </p>
        </main>
      )}
    </>
  );
}
