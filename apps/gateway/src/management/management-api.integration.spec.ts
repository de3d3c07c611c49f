import { jest, describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { ApiError } from '@app/common';
import { classifyApiKey, hashApiKey } from '@app/contracts';
import { SsoTokenVerifier } from './caller/sso-token-verifier.js';
import { startManagementSystem, type Answer, type ManagementSystem } from './testing/management-system.js';

const KEY_OBJECT_FIELDS = ['chatbotId', 'createdAt', 'createdBy', 'id', 'lastUsedAt', 'name', 'prefix', 'type'];
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwtFor = (sub: string) => `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub })}.c2lnbmF0dXJl`;

let system: ManagementSystem;

beforeAll(async () => {
  system = await startManagementSystem();
}, 60_000);

afterAll(async () => {
  await system?.stop();
});

const call = (method: string, path: string, options?: { credential?: string; body?: unknown; rawBody?: string }) =>
  system.http.call(method, path, options);
const admin = (method: string, path: string, body?: unknown) =>
  call(method, `/admin/v1${path}`, { credential: system.adminToken, body });

function expectAnswer(answer: Answer, status: number, code?: string): Answer {
  expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status, code });
  return answer;
}

let tenants = 0;
/** An account with two chatbots and an owner holding a user-level key, all provisioned over the admin API. */
async function provisionTenant(plan = 'standard') {
  tenants += 1;
  const account = expectAnswer(await admin('POST', '/accounts', { name: `Agency ${tenants}`, plan }), 201).body;
  const chatbots = [];
  for (const name of ['Support bot', 'Sales bot']) {
    chatbots.push(expectAnswer(await admin('POST', `/accounts/${account.id}/chatbots`, { name }), 201).body);
  }
  const owner = expectAnswer(
    await admin('POST', `/accounts/${account.id}/users`, { email: `owner-${tenants}@example.test`, role: 'owner' }),
    201,
  ).body;
  const ownerKey = expectAnswer(await admin('POST', `/users/${owner.id}/api-keys`, { name: 'Owner key' }), 201).body;
  return { account, chatbots, owner, ownerKey: ownerKey.key as string };
}

/** Revocation reaches every replica within a second; poll rather than sleep. */
async function eventually(probe: () => Promise<Answer>, accept: (answer: Answer) => boolean): Promise<Answer> {
  const deadline = Date.now() + 1000;
  for (;;) {
    const answer = await probe();
    if (accept(answer) || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('admin API', () => {
  it('does not exist on a gateway without ADMIN_TOKEN', async () => {
    for (const [method, path] of [
      ['POST', '/admin/v1/accounts'],
      ['DELETE', '/admin/v1/chatbots/00000000-0000-4000-8000-000000000000'],
    ]) {
      const answer = await system.httpWithoutAdmin.call(method, path, { credential: system.adminToken, body: { name: 'A', plan: 'entry' } });
      expectAnswer(answer, 404, 'not_found');
    }
  });

  it('refuses a missing or wrong admin token', async () => {
    expectAnswer(await call('POST', '/admin/v1/accounts', { body: { name: 'A', plan: 'entry' } }), 401, 'missing_api_key');
    const wrong = await call('POST', '/admin/v1/accounts', { credential: `${system.adminToken}x`, body: { name: 'A', plan: 'entry' } });
    expectAnswer(wrong, 401, 'invalid_api_key');
    expect(wrong.headers.get('x-request-id')).toBe(wrong.body.error.requestId);
  });

  it('provisions accounts, chatbots and users with the contract shapes', async () => {
    const account = expectAnswer(await admin('POST', '/accounts', { name: ' Acme ', plan: 'entry' }), 201).body;
    expect(account).toEqual({ id: expect.any(String), name: 'Acme', plan: 'entry' });
    expect(expectAnswer(await admin('PATCH', `/accounts/${account.id}`, { plan: 'professional' }), 200).body).toEqual({
      ...account,
      plan: 'professional',
    });
    const chatbot = expectAnswer(await admin('POST', `/accounts/${account.id}/chatbots`, { name: 'Helpdesk' }), 201).body;
    expect(chatbot).toEqual({ id: expect.any(String), accountId: account.id, name: 'Helpdesk' });
    const member = expectAnswer(
      await admin('POST', `/accounts/${account.id}/users`, { email: 'm@example.test', role: 'member', chatbotIds: [chatbot.id] }),
      201,
    ).body;
    expect(member).toEqual({ id: expect.any(String), accountId: account.id, email: 'm@example.test', role: 'member', chatbotIds: [chatbot.id] });
    expect(expectAnswer(await admin('PUT', `/users/${member.id}/chatbots`, { chatbotIds: [] }), 200).body).toEqual({
      ...member,
      chatbotIds: [],
    });
    expectAnswer(await admin('PATCH', '/accounts/00000000-0000-4000-8000-000000000000', { plan: 'free' }), 404, 'account_not_found');
  });

  it('refuses malformed bodies with invalid_request', async () => {
    const { account, owner } = await provisionTenant();
    expectAnswer(await admin('POST', '/accounts', { name: 'A', plan: 'gold' }), 400, 'invalid_request');
    expectAnswer(await admin('POST', '/accounts', { name: 'A', plan: 'entry', id: 'mine' }), 400, 'invalid_request');
    expectAnswer(await admin('PATCH', `/accounts/${account.id}`, { accountId: 'other' }), 400, 'invalid_request');
    expectAnswer(await admin('PUT', `/users/${owner.id}/chatbots`, { chatbotIds: 'all' }), 400, 'invalid_request');
    const malformed = await call('POST', '/admin/v1/accounts', { credential: system.adminToken, rawBody: '{"name":' });
    expectAnswer(malformed, 400, 'invalid_request');
    expectAnswer(
      await admin('POST', `/users/${owner.id}/legacy-keys`, { key: 'legacy-key-0123456789', sha256: 'a'.repeat(64) }),
      400,
      'invalid_request',
    );
    expectAnswer(await admin('POST', `/users/${owner.id}/legacy-keys`, { key: 'too short' }), 400, 'invalid_request');
  });

  it('makes user-level keys for owners and admins only, shown once and never cached', async () => {
    const { account, owner } = await provisionTenant();
    const created = expectAnswer(await admin('POST', `/users/${owner.id}/api-keys`, {}), 201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(created.body).sort()).toEqual([...KEY_OBJECT_FIELDS, 'key'].sort());
    expect(created.body).toMatchObject({ type: 'user', chatbotId: null, name: 'Untitled key', createdBy: owner.id, lastUsedAt: null });
    expect(classifyApiKey(created.body.key)).toBe('user');
    expect(created.body.prefix).toBe(created.body.key.slice(0, 12));
    expectAnswer(await call('GET', '/v1/chatbots', { credential: created.body.key }), 200);

    const member = expectAnswer(
      await admin('POST', `/accounts/${account.id}/users`, { email: `member-${account.id}@example.test`, role: 'member' }),
      201,
    ).body;
    expectAnswer(await admin('POST', `/users/${member.id}/api-keys`, {}), 403, 'forbidden');
  });

  it('imports legacy keys, by plaintext or by hash, so that they keep working unchanged', async () => {
    const { owner } = await provisionTenant();
    const plaintext = `legacy_${owner.id}`;
    const imported = expectAnswer(await admin('POST', `/users/${owner.id}/legacy-keys`, { key: plaintext }), 201).body;
    expect(Object.keys(imported).sort()).toEqual(KEY_OBJECT_FIELDS);
    expect(imported).toMatchObject({ type: 'user', chatbotId: null, prefix: plaintext.slice(0, 12) });
    expectAnswer(await call('GET', '/v1/chatbots', { credential: plaintext }), 200);

    const hashedOnly = `older.legacy.${owner.id}`;
    const byHash = expectAnswer(
      await admin('POST', `/users/${owner.id}/legacy-keys`, { sha256: hashApiKey(hashedOnly).toUpperCase() }),
      201,
    ).body;
    expect(byHash).toMatchObject({ type: 'user', prefix: null });
    expectAnswer(await call('GET', '/v1/chatbots', { credential: hashedOnly }), 200);
  });

  it('deletes a chatbot and revokes its keys', async () => {
    const { chatbots, ownerKey } = await provisionTenant();
    const chatbotKey = expectAnswer(
      await call('POST', `/v1/chatbots/${chatbots[1].id}/api-keys`, { credential: ownerKey }),
      201,
    ).body;

    expect((await admin('DELETE', `/chatbots/${chatbots[1].id}`)).status).toBe(204);

    const listed = expectAnswer(await call('GET', '/v1/chatbots', { credential: ownerKey }), 200).body;
    expect(listed.data.map((chatbot: { id: string }) => chatbot.id)).toEqual([chatbots[0].id]);
    expectAnswer(await call('GET', `/v1/chatbots/${chatbots[1].id}/api-keys`, { credential: ownerKey }), 404, 'chatbot_not_found');
    expectAnswer(await admin('DELETE', `/chatbots/${chatbots[1].id}`), 404, 'chatbot_not_found');
    const refused = await eventually(
      () => call('GET', '/v1/chatbots', { credential: chatbotKey.key }),
      (answer) => answer.status === 401,
    );
    expectAnswer(refused, 401, 'invalid_api_key');
  });
});

describe('management API', () => {
  it('takes user-level keys only: no key, an unknown key, an SSO token and a chatbot key are refused', async () => {
    const { chatbots, ownerKey } = await provisionTenant();
    const chatbotKey = expectAnswer(await call('POST', `/v1/chatbots/${chatbots[0].id}/api-keys`, { credential: ownerKey }), 201).body.key;

    expectAnswer(await call('GET', '/v1/chatbots'), 401, 'missing_api_key');
    expectAnswer(await call('GET', '/v1/chatbots', { credential: 'usk_notakeyatall' }), 401, 'invalid_api_key');
    expectAnswer(await call('GET', '/v1/chatbots', { credential: `unknown-legacy-key-${Date.now()}` }), 401, 'invalid_api_key');
    expectAnswer(await call('GET', '/v1/chatbots', { credential: jwtFor('anyone') }), 401, 'invalid_token');
    expectAnswer(await call('GET', '/v1/chatbots', { credential: chatbotKey }), 403, 'insufficient_scope');
    expectAnswer(await call('GET', '/v1/api-keys', { credential: chatbotKey }), 403, 'insufficient_scope');
    expectAnswer(await call('POST', `/v1/chatbots/${chatbots[0].id}/api-keys`, { credential: chatbotKey }), 403, 'insufficient_scope');
  });

  it('creates, lists, renames and revokes chatbot keys', async () => {
    const { chatbots, owner, ownerKey } = await provisionTenant();
    const base = `/v1/chatbots/${chatbots[0].id}/api-keys`;

    const zapier = expectAnswer(await call('POST', base, { credential: ownerKey, body: { name: '  Zapier ' } }), 201);
    expect(zapier.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(zapier.body).sort()).toEqual([...KEY_OBJECT_FIELDS, 'key'].sort());
    expect(zapier.body).toMatchObject({ type: 'chatbot', name: 'Zapier', chatbotId: chatbots[0].id, createdBy: owner.id, lastUsedAt: null });
    expect(classifyApiKey(zapier.body.key)).toBe('chatbot');
    expect(zapier.body.prefix).toBe(zapier.body.key.slice(0, 12));
    expect(new Date(zapier.body.createdAt).toISOString()).toBe(zapier.body.createdAt);
    const untitled = expectAnswer(await call('POST', base, { credential: ownerKey }), 201).body;
    expect(untitled.name).toBe('Untitled key');

    const listed = expectAnswer(await call('GET', base, { credential: ownerKey }), 200).body;
    expect(listed.data.map((key: { id: string }) => key.id)).toEqual([untitled.id, zapier.body.id]);
    for (const key of listed.data) expect(Object.keys(key).sort()).toEqual(KEY_OBJECT_FIELDS);

    const renamed = expectAnswer(await call('PATCH', `${base}/${zapier.body.id}`, { credential: ownerKey, body: { name: 'Make' } }), 200);
    expect(renamed.body).toEqual({ ...listed.data[1], name: 'Make' });

    const revoked = await call('DELETE', `${base}/${zapier.body.id}`, { credential: ownerKey });
    expect(revoked.status).toBe(204);
    expect(revoked.body).toBeNull();
    expectAnswer(await call('DELETE', `${base}/${zapier.body.id}`, { credential: ownerKey }), 404, 'key_not_found');
    expectAnswer(await call('PATCH', `${base}/${zapier.body.id}`, { credential: ownerKey, body: { name: 'x' } }), 404, 'key_not_found');
    const remaining = expectAnswer(await call('GET', base, { credential: ownerKey }), 200).body;
    expect(remaining.data.map((key: { id: string }) => key.id)).toEqual([untitled.id]);
  });

  it('creates, lists, renames and revokes user-level keys; a revoked key stops working at once', async () => {
    const { ownerKey } = await provisionTenant();

    const created = expectAnswer(await call('POST', '/v1/api-keys', { credential: ownerKey, body: { name: 'CI' } }), 201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({ type: 'user', chatbotId: null, name: 'CI' });
    expect(classifyApiKey(created.body.key)).toBe('user');

    const listed = expectAnswer(await call('GET', '/v1/api-keys', { credential: created.body.key }), 200).body;
    expect(listed.data.map((key: { name: string }) => key.name)).toEqual(['CI', 'Owner key']);

    expectAnswer(await call('PATCH', `/v1/api-keys/${created.body.id}`, { credential: ownerKey, body: { name: 'Deploys' } }), 200);
    expectAnswer(await call('GET', '/v1/chatbots', { credential: created.body.key }), 200);

    expect((await call('DELETE', `/v1/api-keys/${created.body.id}`, { credential: ownerKey })).status).toBe(204);
    const refused = await eventually(
      () => call('GET', '/v1/chatbots', { credential: created.body.key }),
      (answer) => answer.status === 401,
    );
    expectAnswer(refused, 401, 'invalid_api_key');
  });

  it('refuses malformed bodies and queries with invalid_request, creating nothing', async () => {
    const { chatbots, ownerKey } = await provisionTenant();
    const base = `/v1/chatbots/${chatbots[0].id}/api-keys`;
    for (const body of [{ name: 'x'.repeat(65) }, { name: '   ' }, { name: 7 }, { name: 'ok', chatbotId: chatbots[1].id }, ['x']]) {
      expectAnswer(await call('POST', base, { credential: ownerKey, body }), 400, 'invalid_request');
    }
    expectAnswer(await call('POST', base, { credential: ownerKey, rawBody: '{"name": "unterminated' }), 400, 'invalid_request');
    expectAnswer(await call('POST', '/v1/api-keys', { credential: ownerKey, body: { name: '' } }), 400, 'invalid_request');
    expectAnswer(await call('GET', '/v1/chatbots?limit=0', { credential: ownerKey }), 400, 'invalid_request');
    expectAnswer(await call('GET', '/v1/chatbots?limit=201', { credential: ownerKey }), 400, 'invalid_request');
    expect(expectAnswer(await call('GET', base, { credential: ownerKey }), 200).body.data).toEqual([]);
  });

  it('pages the chatbots the caller reaches', async () => {
    const { chatbots, ownerKey } = await provisionTenant();
    const all = expectAnswer(await call('GET', '/v1/chatbots', { credential: ownerKey }), 200).body;
    expect(all).toEqual({ data: expect.any(Array), nextCursor: null });
    expect(all.data.map((chatbot: { id: string }) => chatbot.id).sort()).toEqual(chatbots.map((chatbot) => chatbot.id).sort());
    expect(Object.keys(all.data[0]).sort()).toEqual(['id', 'name']);

    const first = expectAnswer(await call('GET', '/v1/chatbots?limit=1', { credential: ownerKey }), 200).body;
    expect(first.data).toHaveLength(1);
    expect(typeof first.nextCursor).toBe('string');
    const second = expectAnswer(
      await call('GET', `/v1/chatbots?limit=1&cursor=${encodeURIComponent(first.nextCursor)}`, { credential: ownerKey }),
      200,
    ).body;
    expect([...first.data, ...second.data]).toEqual(all.data);
  });

  it("answers 404 for another tenant's chatbots and keys, never revealing them", async () => {
    const mine = await provisionTenant();
    const theirs = await provisionTenant();
    const theirChatbotKey = expectAnswer(
      await call('POST', `/v1/chatbots/${theirs.chatbots[0].id}/api-keys`, { credential: theirs.ownerKey }),
      201,
    ).body;
    const theirUserKey = expectAnswer(await call('POST', '/v1/api-keys', { credential: theirs.ownerKey }), 201).body;
    const theirChatbot = `/v1/chatbots/${theirs.chatbots[0].id}/api-keys`;
    const asMe = { credential: mine.ownerKey };

    expectAnswer(await call('GET', theirChatbot, asMe), 404, 'chatbot_not_found');
    expectAnswer(await call('POST', theirChatbot, asMe), 404, 'chatbot_not_found');
    expectAnswer(await call('PATCH', `${theirChatbot}/${theirChatbotKey.id}`, { ...asMe, body: { name: 'x' } }), 404, 'chatbot_not_found');
    expectAnswer(await call('DELETE', `${theirChatbot}/${theirChatbotKey.id}`, asMe), 404, 'chatbot_not_found');
    const myChatbot = `/v1/chatbots/${mine.chatbots[0].id}/api-keys`;
    expectAnswer(await call('DELETE', `${myChatbot}/${theirChatbotKey.id}`, asMe), 404, 'key_not_found');
    expectAnswer(await call('PATCH', `/v1/api-keys/${theirUserKey.id}`, { ...asMe, body: { name: 'x' } }), 404, 'key_not_found');
    expectAnswer(await call('DELETE', `/v1/api-keys/${theirUserKey.id}`, asMe), 404, 'key_not_found');
    expectAnswer(await call('GET', '/v1/chatbots/not-an-id/api-keys', asMe), 404, 'chatbot_not_found');

    const myList = expectAnswer(await call('GET', '/v1/api-keys', asMe), 200).body.data;
    expect(myList.map((key: { id: string }) => key.id)).not.toContain(theirUserKey.id);
    // Their keys are untouched.
    expectAnswer(await call('GET', '/v1/chatbots', { credential: theirUserKey.key }), 200);
  });

  it('refuses chatbot keys on the free plan, and allows them again after an upgrade', async () => {
    const { account, chatbots, ownerKey } = await provisionTenant('free');
    const base = `/v1/chatbots/${chatbots[0].id}/api-keys`;

    expectAnswer(await call('POST', base, { credential: ownerKey }), 403, 'plan_not_eligible');
    expectAnswer(await call('GET', '/v1/chatbots', { credential: ownerKey }), 200);

    expectAnswer(await admin('PATCH', `/accounts/${account.id}`, { plan: 'entry' }), 200);
    expectAnswer(await call('POST', base, { credential: ownerKey }), 201);
  });

  it('stops at 10 active keys per chatbot', async () => {
    const { chatbots, ownerKey } = await provisionTenant();
    const base = `/v1/chatbots/${chatbots[0].id}/api-keys`;
    const answers = await Promise.all(Array.from({ length: 12 }, () => call('POST', base, { credential: ownerKey })));
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(10);
    for (const refused of answers.filter((answer) => answer.status !== 201)) expectAnswer(refused, 409, 'key_limit_reached');
  });

  /**
   * Members hold no user-level keys, so they reach the management API only with an SSO
   * token (section 8, verified in a later issue). The SSO seam of this running gateway is
   * replaced for this test alone by a verifier that knows one token; everything after it is real.
   */
  it('shows a member only the chatbots assigned to them, and lets them make no user-level key', async () => {
    const { account, chatbots } = await provisionTenant();
    const member = expectAnswer(
      await admin('POST', `/accounts/${account.id}/users`, {
        email: `member-${account.id}@example.test`,
        role: 'member',
        ssoSubject: `idp|member-${account.id}`,
        chatbotIds: [chatbots[0].id],
      }),
      201,
    ).body;
    const token = jwtFor(`idp|member-${account.id}`);
    const sso = system.gateway.get(SsoTokenVerifier);
    const verify = jest.spyOn(sso, 'verify').mockImplementation(async (presented) => {
      if (presented !== token) throw new ApiError('invalid_token', 'unknown token');
      return { ssoSubject: `idp|member-${account.id}` };
    });
    try {
      const asMember = { credential: token };
      const listed = expectAnswer(await call('GET', '/v1/chatbots', asMember), 200).body;
      expect(listed.data.map((chatbot: { id: string }) => chatbot.id)).toEqual([chatbots[0].id]);
      expectAnswer(await call('POST', `/v1/chatbots/${chatbots[0].id}/api-keys`, asMember), 201);
      expectAnswer(await call('GET', `/v1/chatbots/${chatbots[1].id}/api-keys`, asMember), 404, 'chatbot_not_found');
      expectAnswer(await call('POST', '/v1/api-keys', asMember), 403, 'forbidden');

      expectAnswer(await admin('PUT', `/users/${member.id}/chatbots`, { chatbotIds: [chatbots[1].id] }), 200);
      const reassigned = expectAnswer(await call('GET', '/v1/chatbots', asMember), 200).body;
      expect(reassigned.data.map((chatbot: { id: string }) => chatbot.id)).toEqual([chatbots[1].id]);
      expect(verify).toHaveBeenCalledWith(token);
    } finally {
      verify.mockRestore();
    }
  });
});
