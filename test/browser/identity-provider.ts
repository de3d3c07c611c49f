import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { freePort } from '../../scripts/system.mjs';

export interface IdentityProvider {
  issuer: string;
  clientId: string;
  jwksUrl: string;
  /** Registers the console's callback once the gateway's address is known. */
  serve(consoleCallback: string): void;
  stop(): Promise<void>;
}

/**
 * A real OpenID provider (the `oidc-provider` package) on a free port: its development login
 * page takes any login name as the user's `sub`. The port is taken first, so the gateway can be
 * started with the issuer before the console's callback address exists.
 */
export async function startIdentityProvider(): Promise<IdentityProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'chatbot-keys-console';
  // Koa's callback answers its own errors: its promise never rejects.
  let handler: ((request: IncomingMessage, response: ServerResponse) => Promise<void>) | null = null;
  const server: Server = createServer((request, response) => {
    if (handler) void handler(request, response);
    else response.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-signing-key', alg: 'RS256', use: 'sig' };

  return {
    issuer,
    clientId,
    jwksUrl: `${issuer}/jwks`,
    serve(consoleCallback) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            token_endpoint_auth_method: 'none',
            redirect_uris: [consoleCallback],
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        jwks: { keys: [signingKey] },
        cookies: { keys: [randomBytes(32).toString('hex')] },
        pkce: { required: () => true },
        claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
        // The console (a public browser client) calls the token endpoint from its own origin.
        clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => new URL(uri).origin === origin) ?? false,
        findAccount: (_ctx, sub) => ({
          accountId: sub,
          claims: () => ({ sub, email: `${sub}@example.test`, name: `SSO ${sub}` }),
        }),
        features: { devInteractions: { enabled: true } },
      });
      handler = provider.callback();
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
