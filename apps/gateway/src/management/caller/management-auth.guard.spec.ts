import { jest, describe, it, expect } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { ApiError } from '@app/common';
import { generateApiKey, type VerifiedKey } from '@app/contracts';
import type { KeyAuthenticator } from '../../auth/key-authenticator.js';
import { actorOf } from './current-actor.decorator.js';
import { ManagementAuthGuard } from './management-auth.guard.js';
import type { GatewayConfig } from '../../config.js';
import { SsoTokenVerifier } from '../../sso/sso-token-verifier.js';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const SSO_TOKEN = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: 'idp|42' })}.c2lnbmF0dXJl`;

function userKey(overrides: Partial<VerifiedKey> = {}): VerifiedKey {
  return { keyId: 'key-1', type: 'user', accountId: 'acct-1', chatbotId: null, userId: 'user-1', rateLimit: null, ...overrides };
}

function setup(credential: string | null, verified: () => Promise<VerifiedKey> = async () => userKey()) {
  const request = { headers: { authorization: credential === null ? undefined : `Bearer ${credential}` }, ip: '203.0.113.7' };
  const presentedKey = jest.fn((_headers: unknown) => credential);
  const authenticate = jest.fn((_key: string, _chatbotId: string | null, _address: string) => verified());
  const sso = new SsoTokenVerifier({ sso: {} } as GatewayConfig);
  const verify = jest.spyOn(sso, 'verify');
  const sut = new ManagementAuthGuard({ presentedKey, authenticate } as unknown as KeyAuthenticator, sso);
  const context = { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
  return { sut, context, request, presentedKey, authenticate, verify };
}

async function refusal(run: Promise<unknown>): Promise<{ code: string; status: number }> {
  try {
    await run;
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, status: error.status };
    throw error;
  }
  throw new Error('the guard let the request through');
}

describe('ManagementAuthGuard', () => {
  it('answers 401 missing_api_key without a credential', async () => {
    const { sut, context, authenticate, verify } = setup(null);

    expect(await refusal(sut.canActivate(context))).toEqual({ code: 'missing_api_key', status: 401 });
    expect(authenticate).not.toHaveBeenCalled();
    expect(verify).not.toHaveBeenCalled();
  });

  it('verifies a key for an account-level route and makes its holder the actor', async () => {
    const key = generateApiKey('user');
    const { sut, context, request, presentedKey, authenticate } = setup(key);

    await expect(sut.canActivate(context)).resolves.toBe(true);

    expect(presentedKey).toHaveBeenCalledWith(request.headers);
    expect(authenticate).toHaveBeenCalledWith(key, null, '203.0.113.7');
    expect(actorOf(request)).toEqual({ userId: 'user-1' });
  });

  it('takes a legacy key with dots for a key, not a token', async () => {
    const { sut, context, authenticate, verify } = setup('legacy.key-0123.456789');

    await sut.canActivate(context);

    expect(authenticate).toHaveBeenCalled();
    expect(verify).not.toHaveBeenCalled();
  });

  it('sends a JWT to the SSO verifier, never to the key verifier, and refuses it while no SSO is configured', async () => {
    const { sut, context, request, authenticate, verify } = setup(SSO_TOKEN);

    expect(await refusal(sut.canActivate(context))).toEqual({ code: 'invalid_token', status: 401 });
    expect(verify).toHaveBeenCalledWith(SSO_TOKEN);
    expect(authenticate).not.toHaveBeenCalled();
    expect(() => actorOf(request)).toThrow();
  });

  it("passes the verifier's refusals through: a chatbot key gets insufficient_scope", async () => {
    for (const code of ['insufficient_scope', 'invalid_api_key', 'auth_unavailable'] as const) {
      const { sut, context } = setup(generateApiKey('chatbot'), async () => {
        throw new ApiError(code, 'refused');
      });
      expect((await refusal(sut.canActivate(context))).code).toBe(code);
    }
  });

  it('refuses a key that acts for no user, whatever the verifier allowed', async () => {
    const { sut, context, request } = setup(generateApiKey('chatbot'), async () =>
      userKey({ type: 'chatbot', chatbotId: 'bot-1', userId: null }),
    );

    expect(await refusal(sut.canActivate(context))).toEqual({ code: 'insufficient_scope', status: 403 });
    expect(() => actorOf(request)).toThrow();
  });
});
