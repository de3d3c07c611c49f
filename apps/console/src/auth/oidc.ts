import * as oauth from 'oauth4webapi';
import type { Session } from './session';

export interface SsoSettings {
  issuer: string;
  clientId: string;
}

/** The PKCE verifier, state and nonce survive the round trip to the provider in this tab only. */
const PENDING_KEY = 'chatbot-keys.oidc-pending';
const CALLBACK_PATH = '/console/callback';

interface Pending {
  verifier: string;
  state: string;
  nonce: string;
  returnTo: string;
}

function redirectUri(): string {
  return new URL(CALLBACK_PATH, location.origin).href;
}

/** A provider on this machine (local development, the browser tests) may be plain http. */
function requestOptions(issuer: URL) {
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname);
  return { [oauth.allowInsecureRequests]: issuer.protocol === 'http:' && loopback };
}

async function discover(settings: SsoSettings) {
  const issuer = new URL(settings.issuer);
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...requestOptions(issuer) });
  return oauth.processDiscoveryResponse(issuer, response);
}

/** Sends the browser to the provider: authorization code flow with PKCE (S256). */
export async function startSsoSignIn(settings: SsoSettings, returnTo: string): Promise<void> {
  const server = await discover(settings);
  if (!server.authorization_endpoint) throw new Error('the identity provider has no authorization endpoint');
  const pending: Pending = {
    verifier: oauth.generateRandomCodeVerifier(),
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    returnTo,
  };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(server.authorization_endpoint);
  url.searchParams.set('client_id', settings.clientId);
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', 'openid email profile');
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(pending.verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', pending.state);
  url.searchParams.set('nonce', pending.nonce);
  location.assign(url.href);
}

export function isSsoCallback(): boolean {
  return location.pathname === CALLBACK_PATH;
}

/**
 * Back from the provider: checks state, exchanges the code (with the PKCE verifier) and checks
 * the ID token's issuer, audience and nonce. The ID token is what /v1 verifies: its audience is
 * this console's client id, which the gateway is configured to accept (SSO_AUDIENCE).
 */
export async function completeSsoSignIn(settings: SsoSettings): Promise<{ session: Session; returnTo: string }> {
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as Pending | null;
  sessionStorage.removeItem(PENDING_KEY);
  if (!pending) throw new Error('This sign-in link has already been used. Start again.');
  const server = await discover(settings);
  const client: oauth.Client = { client_id: settings.clientId };
  const params = oauth.validateAuthResponse(server, client, new URL(location.href), pending.state);
  const response = await oauth.authorizationCodeGrantRequest(
    server,
    client,
    oauth.None(),
    params,
    redirectUri(),
    pending.verifier,
    requestOptions(new URL(settings.issuer)),
  );
  const result = await oauth.processAuthorizationCodeResponse(server, client, response, {
    expectedNonce: pending.nonce,
    requireIdToken: true,
  });
  const claims = oauth.getValidatedIdTokenClaims(result);
  if (!result.id_token || !claims) throw new Error('the identity provider sent no ID token');
  const label = [claims.name, claims.email, claims.sub].find((value): value is string => typeof value === 'string' && value !== '')!;
  return {
    session: { kind: 'sso', token: result.id_token, label, expiresAt: claims.exp * 1000 },
    returnTo: pending.returnTo,
  };
}
