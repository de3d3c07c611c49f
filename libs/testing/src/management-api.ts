import { expect } from '@jest/globals';
import { SignJWT } from 'jose';
import type { Answer, ManagementSystem } from './management-system.js';

/** Every field of the contract's key object: never the key's hash, never the key (except on creation). */
export const KEY_OBJECT_FIELDS = [
  'allowedIps',
  'chatbotId',
  'createdAt',
  'createdBy',
  'enabled',
  'expiresAt',
  'id',
  'lastUsedAt',
  'name',
  'prefix',
  'rateLimit',
  'rolledFrom',
  'status',
  'type',
];

/** The HS256 secret the test gateway trusts for SSO tokens (SSO_HS256_SECRET). */
export const SSO_TEST_SECRET = 'management-api-test-sso-secret-0123456789';
/** The issuer and audience every SSO token must name (SSO_ISSUER, SSO_AUDIENCE). */
export const SSO_TEST_ISSUER = 'https://idp.test.example/';
export const SSO_TEST_AUDIENCE = 'chatbot-keys-test';

/** An SSO token for `sub`, signed as the customer's identity provider would (or with another secret). */
export function jwtFor(sub: string, secret = SSO_TEST_SECRET): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(SSO_TEST_ISSUER)
    .setAudience(SSO_TEST_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));
}

export function expectAnswer(answer: Answer, status: number, code?: string): Answer {
  expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status, code });
  return answer;
}

type CallOptions = { credential?: string; body?: unknown; rawBody?: string };

/** HTTP calls against the system's gateway, as a client and as the provisioning platform. */
export function apiHelpers(system: () => ManagementSystem) {
  let tenants = 0;
  const call = (method: string, path: string, options?: CallOptions) => system().http.call(method, path, options);
  const admin = (method: string, path: string, body?: unknown) =>
    call(method, `/admin/v1${path}`, { credential: system().adminToken, body });

  /** An account with two chatbots and an owner holding a user-level key, all provisioned over the admin API. */
  async function provisionTenant(plan = 'standard') {
    tenants += 1;
    const tag = `${tenants}-${Date.now()}`;
    const account = expectAnswer(await admin('POST', '/accounts', { name: `Agency ${tag}`, plan }), 201).body;
    const chatbots = [];
    for (const name of ['Support bot', 'Sales bot']) {
      chatbots.push(expectAnswer(await admin('POST', `/accounts/${account.id}/chatbots`, { name }), 201).body);
    }
    const owner = expectAnswer(
      await admin('POST', `/accounts/${account.id}/users`, { email: `owner-${tag}@example.test`, role: 'owner' }),
      201,
    ).body;
    const ownerKey = expectAnswer(await admin('POST', `/users/${owner.id}/api-keys`, { name: 'Owner key' }), 201).body;
    return { account, chatbots, owner, ownerKey: ownerKey.key as string };
  }

  return { call, admin, provisionTenant };
}
