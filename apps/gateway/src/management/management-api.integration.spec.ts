import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { classifyApiKey } from '@app/contracts';
import { apiHelpers, expectAnswer, jwtFor, KEY_OBJECT_FIELDS } from '../../../../libs/testing/src/management-api.js';
import { startManagementSystem, type ManagementSystem } from '../../../../libs/testing/src/management-system.js';
import { eventually } from '@app/testing';

let system: ManagementSystem;
const { call, admin, provisionTenant } = apiHelpers(() => system);

beforeAll(async () => {
  system = await startManagementSystem();
}, 60_000);

afterAll(async () => {
  await system?.stop();
});

describe('management API', () => {
  it('takes user-level keys only: no key, an unknown key, an SSO token and a chatbot key are refused', async () => {
    const { chatbots, ownerKey } = await provisionTenant();
    const chatbotKey = expectAnswer(await call('POST', `/v1/chatbots/${chatbots[0].id}/api-keys`, { credential: ownerKey }), 201).body.key;

    expectAnswer(await call('GET', '/v1/chatbots'), 401, 'missing_api_key');
    expectAnswer(await call('GET', '/v1/chatbots', { credential: 'usk_notakeyatall' }), 401, 'invalid_api_key');
    expectAnswer(await call('GET', '/v1/chatbots', { credential: `unknown-legacy-key-${Date.now()}` }), 401, 'invalid_api_key');
    expectAnswer(await call('GET', '/v1/chatbots', { credential: await jwtFor('anyone') }), 401, 'invalid_token');
    const forged = await jwtFor(`idp|member-${chatbots[0].id}`, 'a-secret-the-gateway-does-not-trust-000');
    expectAnswer(await call('GET', '/v1/chatbots', { credential: forged }), 401, 'invalid_token');
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
    expect(zapier.body).toMatchObject({
      type: 'chatbot',
      name: 'Zapier',
      chatbotId: chatbots[0].id,
      createdBy: owner.id,
      lastUsedAt: null,
    });
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
      { timeoutMs: 1_000 },
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

  /** Members hold no user-level keys, so they reach the management API with an SSO token (section 8). */
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
    const asMember = { credential: await jwtFor(`idp|member-${account.id}`) };
    {
      const listed = expectAnswer(await call('GET', '/v1/chatbots', asMember), 200).body;
      expect(listed.data.map((chatbot: { id: string }) => chatbot.id)).toEqual([chatbots[0].id]);
      expectAnswer(await call('POST', `/v1/chatbots/${chatbots[0].id}/api-keys`, asMember), 201);
      expectAnswer(await call('GET', `/v1/chatbots/${chatbots[1].id}/api-keys`, asMember), 404, 'chatbot_not_found');
      expectAnswer(await call('POST', '/v1/api-keys', asMember), 403, 'forbidden');

      expectAnswer(await admin('PUT', `/users/${member.id}/chatbots`, { chatbotIds: [chatbots[1].id] }), 200);
      const reassigned = expectAnswer(await call('GET', '/v1/chatbots', asMember), 200).body;
      expect(reassigned.data.map((chatbot: { id: string }) => chatbot.id)).toEqual([chatbots[1].id]);
    }
  });
});
