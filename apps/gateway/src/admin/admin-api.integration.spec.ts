import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { classifyApiKey, hashApiKey } from '@app/contracts';
import { apiHelpers, expectAnswer, KEY_OBJECT_FIELDS } from '../../../../libs/testing/src/management-api.js';
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

describe('admin API', () => {
  it('does not exist on a gateway without ADMIN_TOKEN', async () => {
    for (const [method, path] of [
      ['POST', '/admin/v1/accounts'],
      ['DELETE', '/admin/v1/chatbots/00000000-0000-4000-8000-000000000000'],
    ]) {
      const answer = await system.httpWithoutAdmin.call(method, path, {
        credential: system.adminToken,
        body: { name: 'A', plan: 'entry' },
      });
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
    expect(member).toEqual({
      id: expect.any(String),
      accountId: account.id,
      email: 'm@example.test',
      role: 'member',
      chatbotIds: [chatbot.id],
    });
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
    const chatbotKey = expectAnswer(await call('POST', `/v1/chatbots/${chatbots[1].id}/api-keys`, { credential: ownerKey }), 201).body;

    expect((await admin('DELETE', `/chatbots/${chatbots[1].id}`)).status).toBe(204);

    const listed = expectAnswer(await call('GET', '/v1/chatbots', { credential: ownerKey }), 200).body;
    expect(listed.data.map((chatbot: { id: string }) => chatbot.id)).toEqual([chatbots[0].id]);
    expectAnswer(await call('GET', `/v1/chatbots/${chatbots[1].id}/api-keys`, { credential: ownerKey }), 404, 'chatbot_not_found');
    expectAnswer(await admin('DELETE', `/chatbots/${chatbots[1].id}`), 404, 'chatbot_not_found');
    const refused = await eventually(
      () => call('GET', '/v1/chatbots', { credential: chatbotKey.key }),
      (answer) => answer.status === 401,
      { timeoutMs: 1_000 },
    );
    expectAnswer(refused, 401, 'invalid_api_key');
  });
});
