import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { GatewayConfig, SsoConfig } from '../config.js';
import { SsoTokenVerifier } from './sso-token-verifier.js';

const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'chatbot-keys';
const SECRET = 'a-shared-hs256-secret-of-at-least-32-chars';

function verifierWith(sso: Partial<SsoConfig>): SsoTokenVerifier {
  const settings: SsoConfig = {
    jwksUrl: undefined,
    jwksFile: undefined,
    issuer: ISSUER,
    audience: AUDIENCE,
    hs256Secret: undefined,
    clockSkewSeconds: 30,
    jwksCooldownMs: 1,
    ...sso,
  };
  return new SsoTokenVerifier({ sso: settings } as GatewayConfig);
}

async function keyPair(alg: 'RS256' | 'ES256', kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { privateKey, publicKey, jwk, alg, kid };
}

function token(claims: Record<string, unknown> = {}) {
  return new SignJWT({ ...claims }).setSubject('sso|alice').setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m');
}

describe('SsoTokenVerifier', () => {
  let rsa: Awaited<ReturnType<typeof keyPair>>;
  let ec: Awaited<ReturnType<typeof keyPair>>;
  let jwksFile: string;

  beforeAll(async () => {
    rsa = await keyPair('RS256', 'rsa-1');
    ec = await keyPair('ES256', 'ec-1');
    jwksFile = join(mkdtempSync(join(tmpdir(), 'jwks-')), 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [rsa.jwk, ec.jwk] }));
  });

  const sign = (pair: { privateKey: CryptoKey; alg: string; kid: string }, builder = token()) =>
    builder.setProtectedHeader({ alg: pair.alg, kid: pair.kid }).sign(pair.privateKey);

  it('accepts RS256 and ES256 tokens from the JWKS file and returns the subject', async () => {
    const sut = verifierWith({ jwksFile });
    await expect(sut.verify(await sign(rsa))).resolves.toEqual({ ssoSubject: 'sso|alice' });
    await expect(sut.verify(await sign(ec))).resolves.toEqual({ ssoSubject: 'sso|alice' });
  });

  it('accepts HS256 with the shared secret', async () => {
    const sut = verifierWith({ hs256Secret: SECRET });
    const hs = await token().setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
    await expect(sut.verify(hs)).resolves.toEqual({ ssoSubject: 'sso|alice' });
  });

  it.each([
    ['expired', () => token().setExpirationTime(Math.floor(Date.now() / 1000) - 120)],
    ['not yet valid', () => token().setNotBefore(Math.floor(Date.now() / 1000) + 120)],
    ['another issuer', () => token().setIssuer('https://evil.example.test/')],
    ['another audience', () => token().setAudience('someone-else')],
  ])('refuses a token that is %s', async (_case, build) => {
    const sut = verifierWith({ jwksFile });
    await expect(sut.verify(await sign(rsa, build()))).rejects.toMatchObject({ code: 'invalid_token', status: 401 });
  });

  it('tolerates a small clock skew', async () => {
    const sut = verifierWith({ jwksFile });
    const justExpired = token().setExpirationTime(Math.floor(Date.now() / 1000) - 5);
    await expect(sut.verify(await sign(rsa, justExpired))).resolves.toEqual({ ssoSubject: 'sso|alice' });
  });

  it('refuses alg none, a foreign key and algorithm confusion', async () => {
    const sut = verifierWith({ jwksFile, hs256Secret: SECRET });
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const body = Buffer.from(JSON.stringify({ sub: 'sso|alice', iss: ISSUER, aud: AUDIENCE, exp: now + 300 })).toString('base64url');
    await expect(sut.verify(`${header}.${body}.`)).rejects.toMatchObject({ code: 'invalid_token' });

    const stranger = await keyPair('RS256', 'rsa-1');
    await expect(sut.verify(await sign(stranger))).rejects.toMatchObject({ code: 'invalid_token' });

    // HS256 "signed" with the RSA public key as the secret: the classic confusion attack.
    const publicPem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const confused = await token().setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).sign(publicPem);
    await expect(sut.verify(confused)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('refuses every token when SSO is not configured', async () => {
    const sut = verifierWith({});
    expect(sut.enabled).toBe(false);
    await expect(sut.verify(await sign(rsa))).rejects.toMatchObject({ code: 'invalid_token' });
  });

  describe('with a JWKS URL', () => {
    let server: Server;
    let published: JWK[];
    let fetches = 0;
    let url: string;

    beforeAll(async () => {
      published = [rsa.jwk];
      server = createServer((_request, response) => {
        fetches++;
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ keys: published }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    it('caches the key set and honours rotation to a new kid', async () => {
      const sut = verifierWith({ jwksUrl: url });
      await sut.verify(await sign(rsa));
      await sut.verify(await sign(rsa));
      expect(fetches).toBe(1);

      const rotated = await keyPair('ES256', 'ec-rotated');
      published = [rotated.jwk];
      await expect(sut.verify(await sign(rotated))).resolves.toEqual({ ssoSubject: 'sso|alice' });
      expect(fetches).toBe(2);
    });
  });
});
