import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ERROR_STATUS, type ErrorCode } from '@app/contracts';
import { createChatbotKey, startAttackSystem, type AttackSystem, type RawAnswer, type Tenant } from './attack-system.js';
import { contentType, hostileId, hostileJsonBody } from './hostile-json.js';

/**
 * Hostile input on every management and admin route, through a real gateway: an answer is a
 * success or a contract error (status and code agreeing), never a 5xx; another tenant's
 * resources stay invisible; and no credential is ever echoed back.
 */
const RUNS = { numRuns: 200 };

let attack: AttackSystem;
let tenant: Tenant;
let other: Tenant;
let sacrificial: string[] = [];
let otherTenantIds: string[] = [];

beforeAll(async () => {
  attack = await startAttackSystem();
  tenant = await attack.helpers.provisionTenant('standard');
  other = await attack.helpers.provisionTenant('standard');
  const spare = await createChatbotKey(attack.helpers, tenant, tenant.chatbots[1].id);
  const foreign = await createChatbotKey(attack.helpers, other, other.chatbots[0].id);
  sacrificial = [spare.id, tenant.chatbots[1].id];
  otherTenantIds = [other.account.id, other.owner.id, other.chatbots[0].id, other.chatbots[1].id, foreign.id];
}, 60_000);

afterAll(async () => {
  await attack?.stop();
});

const ids = () => [...sacrificial, ...otherTenantIds];
const idArb = hostileId(ids);

function expectContractAnswer(label: string, answer: RawAnswer): void {
  expect([label, answer.status < 500]).toEqual([label, true]);
  if (answer.status >= 400) {
    const code = answer.json?.error?.code as ErrorCode;
    expect([label, answer.status, ERROR_STATUS[code]]).toEqual([label, answer.status, answer.status]);
    expect(answer.json.error.requestId).toBe(answer.headers['x-request-id']);
  }
}

const managementRoutes: [method: string, template: string, fields: string[]][] = [
  ['POST', '/v1/chatbots/{id}/api-keys', ['name']],
  ['GET', '/v1/chatbots/{id}/api-keys', []],
  ['PATCH', '/v1/chatbots/{id}/api-keys/{id}', ['name']],
  ['DELETE', '/v1/chatbots/{id}/api-keys/{id}', []],
  ['POST', '/v1/api-keys', ['name']],
  ['PATCH', '/v1/api-keys/{id}', ['name']],
  ['DELETE', '/v1/api-keys/{id}', []],
  ['GET', '/v1/chatbots?limit={id}&cursor={id}', []],
];
const adminRoutes: [method: string, template: string, fields: string[]][] = [
  ['POST', '/admin/v1/accounts', ['name', 'plan']],
  ['PATCH', '/admin/v1/accounts/{id}', ['name', 'plan']],
  ['POST', '/admin/v1/accounts/{id}/chatbots', ['name']],
  ['DELETE', '/admin/v1/chatbots/{id}', []],
  ['POST', '/admin/v1/accounts/{id}/users', ['email', 'role', 'ssoSubject', 'chatbotIds']],
  ['PUT', '/admin/v1/users/{id}/chatbots', ['chatbotIds']],
  ['POST', '/admin/v1/users/{id}/api-keys', ['name']],
  ['POST', '/admin/v1/users/{id}/legacy-keys', ['key', 'sha256']],
];

function routeArb(routes: typeof managementRoutes) {
  return fc.constantFrom(...routes).chain(([method, template, fields]) =>
    fc.record({
      method: fc.constant(method),
      path: fc
        .array(idArb, { minLength: 2, maxLength: 2 })
        .map(([first, second]) => template.replace('{id}', first).replace('{id}', second)),
      body: method === 'GET' || method === 'DELETE' ? fc.constant(undefined) : fc.option(hostileJsonBody(fields), { nil: undefined }),
      type: contentType,
    }),
  );
}

describe('management and admin API under hostile input (properties, real gateway)', () => {
  it('answers hostile bodies, ids and queries on the management API with a contract answer, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(routeArb(managementRoutes), async ({ method, path, body, type }) => {
        const headers: Record<string, string> = { authorization: `Bearer ${tenant.ownerKey}` };
        if (body !== undefined) headers['content-type'] = type;
        const answer = await attack.send({ method, path, headers, body });
        expectContractAnswer(`${method} ${path}`, answer);
        // Another tenant's resources are never reached: its ids answer 404 (or 400/415 for a malformed body or media type, judged first).
        if (otherTenantIds.some((id) => path.includes(`/${id}/`) || path.endsWith(`/${id}`))) {
          expect([`${method} ${path}`, [400, 404, 415].includes(answer.status)]).toEqual([`${method} ${path}`, true]);
        }
      }),
      RUNS,
    );
  });

  it('answers hostile bodies and ids on the admin API with a contract answer, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(routeArb(adminRoutes), async ({ method, path, body, type }) => {
        const headers: Record<string, string> = { authorization: `Bearer ${attack.system.adminToken}` };
        if (body !== undefined) headers['content-type'] = type;
        expectContractAnswer(`${method} ${path}`, await attack.send({ method, path, headers, body }));
      }),
      RUNS,
    );
  });

  it('serves no admin route without the exact ADMIN_TOKEN, and none at all on a gateway without one', async () => {
    const token = attack.system.adminToken;
    const wrong: [string, Record<string, string>][] = [
      ['missing_api_key', {}],
      ['missing_api_key', { authorization: token }],
      ['missing_api_key', { authorization: `Basic ${token}` }],
      ['missing_api_key', { 'x-api-key': token }],
      ['invalid_api_key', { authorization: `Bearer ${token.slice(0, -1)}` }],
      ['invalid_api_key', { authorization: `Bearer ${token}x` }],
      ['invalid_api_key', { authorization: `Bearer ${token.toUpperCase()}` }],
      ['invalid_api_key', { authorization: `Bearer ${tenant.ownerKey}` }],
      ['invalid_api_key', { authorization: `Bearer ${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}` }],
    ];
    const chatbotsBefore = (await attack.helpers.call('GET', '/v1/chatbots', { credential: tenant.ownerKey })).body.data.length;
    for (const [method, template] of adminRoutes) {
      const path = template.replace(
        '{id}',
        template.includes('/users/') ? tenant.owner.id : template.includes('/chatbots/') ? tenant.chatbots[0].id : tenant.account.id,
      );
      const body = JSON.stringify({ name: 'intruder', plan: 'professional' });
      for (const [code, credential] of wrong) {
        const answer = await attack.send({
          method,
          path: `${path}?token=${token}`,
          headers: { ...credential, 'content-type': 'application/json' },
          body,
        });
        expect([method, path, credential, answer.status, answer.json?.error?.code]).toEqual([method, path, credential, 401, code]);
      }
      const withoutAdmin = await attack.system.httpWithoutAdmin.call(method, path, { credential: token, body: { name: 'intruder' } });
      expect([method, path, withoutAdmin.status, withoutAdmin.body?.error?.code]).toEqual([method, path, 404, 'not_found']);
    }
    const after = await attack.helpers.call('GET', '/v1/chatbots', { credential: tenant.ownerKey });
    expect(after.body.data.length).toBe(chatbotsBefore);
  });

  it('never echoes a credential sent in a body, a path or a query, whatever the error', async () => {
    const key = tenant.ownerKey;
    // Not even the start of the key beyond its type: an error answer quotes none of it.
    const fragments = [key.slice(4, 12), key.slice(12, 24), key.slice(24)];
    const owner = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const admin = { authorization: `Bearer ${attack.system.adminToken}`, 'content-type': 'application/json' };
    const attempts: { method: string; path: string; headers: Record<string, string>; body?: string }[] = [
      { method: 'POST', path: '/v1/api-keys', headers: owner, body: key },
      { method: 'POST', path: '/v1/api-keys', headers: owner, body: `{"name":"${key}` },
      { method: 'POST', path: '/v1/api-keys', headers: owner, body: `{"name":${key}}` },
      { method: 'POST', path: '/v1/api-keys', headers: owner, body: `{"name":1${key.slice(4)}}` }, // V8 would quote this part
      { method: 'POST', path: '/v1/api-keys', headers: owner, body: `{"${key}":1}` },
      { method: 'POST', path: '/v1/api-keys', headers: owner, body: JSON.stringify({ name: key.repeat(2) }) },
      { method: 'POST', path: '/v1/api-keys', headers: owner, body: JSON.stringify({ key }) },
      { method: 'PATCH', path: `/v1/api-keys/${key}`, headers: owner, body: JSON.stringify({ name: 5 }) },
      { method: 'GET', path: `/v1/chatbots/${key}/api-keys`, headers: owner },
      { method: 'GET', path: `/v1/chatbots?cursor=${key}&limit=${key}`, headers: owner },
      { method: 'POST', path: `/admin/v1/users/${tenant.owner.id}/legacy-keys`, headers: admin, body: JSON.stringify({ sha256: key }) },
      { method: 'POST', path: `/admin/v1/users/${tenant.owner.id}/legacy-keys`, headers: admin, body: JSON.stringify({ key: `${key} ` }) },
      {
        method: 'POST',
        path: `/admin/v1/users/${tenant.owner.id}/legacy-keys`,
        headers: admin,
        body: JSON.stringify({ key, sha256: key }),
      },
      { method: 'POST', path: '/admin/v1/accounts', headers: admin, body: key },
      { method: 'POST', path: '/admin/v1/accounts', headers: { authorization: `Bearer ${key}` }, body: '{}' },
      { method: 'GET', path: `/api/v1/chatbots/x?key=${key}`, headers: {} },
      { method: 'POST', path: '/api/v1/chat', headers: owner, body: key },
      { method: 'POST', path: '/api/v1/chat', headers: owner, body: `{"chatbotId":${key}}` },
      { method: 'GET', path: '/api/v1/chatbots/x', headers: { authorization: `Bearer ${key}x` } },
      { method: 'GET', path: `/v1/%zz${key}`, headers: {} },
    ];
    for (const attempt of attempts) {
      const answer = await attack.send(attempt);
      const label = `${attempt.method} ${attempt.path} ${attempt.body ?? ''}`;
      expectContractAnswer(label, answer);
      expect([label, answer.status >= 400, fragments.filter((fragment) => answer.text.includes(fragment))]).toEqual([label, true, []]);
    }
    attack.takeForwarded();
  });
});
