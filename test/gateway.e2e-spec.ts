import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { dumpStoredData, startTestSystem, type TestSystem, eventually } from '@app/testing';
import { expectStatus, GatewayClient } from './client.js';

/**
 * The whole system through the gateway alone, the way the README's walk-through uses it:
 * every service is its own process, started from the build.
 */
describe('chatbot keys end to end', () => {
  let system: TestSystem;
  let client: GatewayClient;
  let tenant: Awaited<ReturnType<GatewayClient['provision']>>;
  const issuedKeys: string[] = [];

  beforeAll(async () => {
    system = await startTestSystem();
    client = new GatewayClient(system.gatewayUrl, system.adminToken);
    tenant = await client.provision();
    issuedKeys.push(tenant.userKey);
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
  });

  const [supportBot, salesBot] = [0, 1].map((index) => () => tenant.chatbots[index]);

  async function createChatbotKey(chatbotId: string, name?: string) {
    const answer = expectStatus(
      await client.call('POST', `/v1/chatbots/${chatbotId}/api-keys`, { key: tenant.userKey, body: name ? { name } : {} }),
      201,
    );
    issuedKeys.push(answer.body.key);
    return answer;
  }

  it('creates a chatbot key shown once, with no-store', async () => {
    const created = await createChatbotKey(supportBot().id, '  Zapier  ');
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({ type: 'chatbot', name: 'Zapier', chatbotId: supportBot().id, lastUsedAt: null });
    expect(created.body.key).toMatch(/^cbk_[0-9A-Za-z]{38}$/);
    expect(created.body.prefix).toBe(created.body.key.slice(0, 12));
    const listed = expectStatus(await client.call('GET', `/v1/chatbots/${supportBot().id}/api-keys`, { key: tenant.userKey }), 200);
    expect(listed.body.data.map((key: { id: string }) => key.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
  });

  it('forwards a chatbot key to its own chatbot with verified headers only', async () => {
    const { body: created } = await createChatbotKey(supportBot().id);
    const answer = await client.call('GET', `/api/v1/chatbots/${supportBot().id}/conversations?page=2`, {
      key: created.key,
      headers: { 'x-account-id': 'forged', 'x-user-id': 'forged', 'x-request-id': 'trace-123' },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-request-id')).toBe('trace-123');
    expect(answer.body.path).toBe(`/api/v1/chatbots/${supportBot().id}/conversations`);
    expect(answer.body.query).toEqual({ page: '2' });
    expect(answer.body.received).toEqual({
      'x-account-id': tenant.account.id,
      'x-chatbot-id': supportBot().id,
      'x-api-key-id': created.id,
      'x-api-key-type': 'chatbot',
      'x-request-id': 'trace-123',
    });

    const chat = await client.call('POST', '/api/v1/chat', { key: created.key, body: { chatbotId: supportBot().id, message: 'hello' } });
    expect(chat.status).toBe(200);
    expect(chat.body.reply).toContain('hello');
  });

  it('refuses a chatbot key outside its chatbot with 403 insufficient_scope, existing chatbot or not', async () => {
    const { body: created } = await createChatbotKey(supportBot().id);
    for (const path of [`/api/v1/chatbots/${salesBot().id}`, '/api/v1/chatbots/does-not-exist/x', '/api/v1/account/usage']) {
      const answer = await client.call('GET', path, { key: created.key });
      expect([path, answer.status, answer.body.error?.code]).toEqual([path, 403, 'insufficient_scope']);
    }
    const chat = await client.call('POST', '/api/v1/chat', { key: created.key, body: { chatbotId: salesBot().id } });
    expect(chat.body.error.code).toBe('insufficient_scope');
    const management = await client.call('GET', '/v1/chatbots', { key: created.key });
    expect([management.status, management.body.error.code]).toEqual([403, 'insufficient_scope']);
  });

  it('lets a user-level key reach every chatbot of its account and account routes', async () => {
    const onSales = await client.call('GET', `/api/v1/chatbots/${salesBot().id}/x`, { key: tenant.userKey });
    expect(onSales.status).toBe(200);
    expect(onSales.body.received['x-api-key-type']).toBe('user');
    expect(onSales.body.received['x-user-id']).toBe(tenant.owner.id);
    const account = await client.call('GET', '/api/v1/account/usage', { key: tenant.userKey });
    expect(account.status).toBe(200);
    expect(account.body.received['x-chatbot-id']).toBeUndefined();
    const other = await client.provision();
    const foreign = await client.call('GET', `/api/v1/chatbots/${other.chatbots[0].id}`, { key: tenant.userKey });
    expect([foreign.status, foreign.body.error.code]).toEqual([403, 'insufficient_scope']);
    const hidden = await client.call('GET', `/v1/chatbots/${other.chatbots[0].id}/api-keys`, { key: tenant.userKey });
    expect([hidden.status, hidden.body.error.code]).toEqual([404, 'chatbot_not_found']);
  });

  it('renames a key without breaking it, then revokes it everywhere within a second', async () => {
    const { body: created } = await createChatbotKey(supportBot().id, 'Before');
    const path = `/v1/chatbots/${supportBot().id}/api-keys/${created.id}`;
    const renamed = expectStatus(await client.call('PATCH', path, { key: tenant.userKey, body: { name: 'After' } }), 200);
    expect(renamed.body.name).toBe('After');
    expect((await client.call('GET', `/api/v1/chatbots/${supportBot().id}`, { key: created.key })).status).toBe(200);

    expectStatus(await client.call('DELETE', path, { key: tenant.userKey }), 204);
    const revokedAt = Date.now();
    const refused = await eventually(
      () => client.call('GET', `/api/v1/chatbots/${supportBot().id}`, { key: created.key }),
      (answer) => answer.status === 401,
      { timeoutMs: 1000 },
    );
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('invalid_api_key');
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    const again = await client.call('DELETE', path, { key: tenant.userKey });
    expect([again.status, again.body.error.code]).toEqual([404, 'key_not_found']);
  });

  it('keeps at most 10 active keys on a chatbot under 20 concurrent creates', async () => {
    const { body: chatbot } = expectStatus(
      await client.admin('POST', `/accounts/${tenant.account.id}/chatbots`, { name: 'Busy bot' }),
      201,
    );
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => client.call('POST', `/v1/chatbots/${chatbot.id}/api-keys`, { key: tenant.userKey, body: {} })),
    );
    for (const answer of answers) if (answer.status === 201) issuedKeys.push(answer.body.key);
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(10);
    const refused = answers.filter((answer) => answer.status === 409);
    expect(refused).toHaveLength(10);
    expect(refused[0].body.error.code).toBe('key_limit_reached');
    const listed = expectStatus(await client.call('GET', `/v1/chatbots/${chatbot.id}/api-keys`, { key: tenant.userKey }), 200);
    expect(listed.body.data).toHaveLength(10);
  });

  it('suspends chatbot keys on a downgrade to free and restores them on upgrade', async () => {
    const { body: created } = await createChatbotKey(supportBot().id);
    const call = () => client.call('GET', `/api/v1/chatbots/${supportBot().id}`, { key: created.key });
    expect((await call()).status).toBe(200);
    expectStatus(await client.admin('PATCH', `/accounts/${tenant.account.id}`, { plan: 'free' }), 200);
    const suspended = await eventually(call, (answer) => answer.status === 403, { timeoutMs: 1000 });
    expect(suspended.body.error.code).toBe('plan_not_eligible');
    const create = await client.call('POST', `/v1/chatbots/${supportBot().id}/api-keys`, { key: tenant.userKey, body: {} });
    expect([create.status, create.body.error.code]).toEqual([403, 'plan_not_eligible']);
    expectStatus(await client.admin('PATCH', `/accounts/${tenant.account.id}`, { plan: 'standard' }), 200);
    expect((await eventually(call, (answer) => answer.status === 200, { timeoutMs: 1000 })).status).toBe(200);
  });

  it('streams a server-sent-events answer chunk by chunk', async () => {
    const { body: created } = await createChatbotKey(supportBot().id);
    const response = await fetch(`${system.gatewayUrl}/api/v1/chatbots/${supportBot().id}/stream`, {
      headers: { authorization: `Bearer ${created.key}` },
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    const arrivals: number[] = [];
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push(Date.now());
      text += Buffer.from(value).toString();
    }
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    // The demo upstream waits 50 ms between words: a buffered answer would arrive in one piece.
    expect(arrivals.length).toBeGreaterThan(5);
    expect(arrivals[arrivals.length - 1] - arrivals[0]).toBeGreaterThan(200);
  });

  it('answers every refusal in the contract error shape', async () => {
    const cases: [string, string, Record<string, unknown>, number, string][] = [
      ['GET', `/api/v1/chatbots/${supportBot().id}`, {}, 401, 'missing_api_key'],
      ['GET', `/api/v1/chatbots/${supportBot().id}`, { key: 'cbk_' + 'a'.repeat(38) }, 401, 'invalid_api_key'],
      ['GET', `/api/v1/chatbots/${supportBot().id}`, { key: 'an-unknown-legacy-key-0000' }, 401, 'invalid_api_key'],
      ['GET', `/api/v1/chatbots/${supportBot().id}/..%2f..%2fother`, { key: tenant.userKey }, 400, 'invalid_request'],
      ['GET', `/api/v1/chatbots/${supportBot().id}/%252e%252e/x`, { key: tenant.userKey }, 400, 'invalid_request'],
      ['POST', '/api/v1/chat', { key: tenant.userKey, body: '{"chatbotId":' }, 400, 'invalid_request'],
      ['POST', '/api/v1/chat', { key: tenant.userKey, body: { message: 'no chatbot' } }, 400, 'invalid_request'],
      ['GET', '/nothing-here', {}, 404, 'not_found'],
      ['POST', `/v1/chatbots/${supportBot().id}/api-keys`, { key: tenant.userKey, body: { name: 'x'.repeat(65) } }, 400, 'invalid_request'],
      ['POST', `/v1/chatbots/${supportBot().id}/api-keys`, { key: tenant.userKey, body: { name: 'ok', extra: 1 } }, 400, 'invalid_request'],
      ['GET', '/v1/chatbots', { key: 'usk_' + 'b'.repeat(38) }, 401, 'invalid_api_key'],
      ['POST', '/admin/v1/accounts', { key: 'wrong-admin-token', body: { name: 'x', plan: 'free' } }, 401, ''],
    ];
    for (const [method, path, options, status, code] of cases) {
      const answer = await client.call(method, path, options);
      const label = `${method} ${path}`;
      expect([label, answer.status]).toEqual([label, status]);
      if (code) expect([label, answer.body.error.code]).toEqual([label, code]);
      expect(typeof answer.body.error.message).toBe('string');
      expect(answer.body.error.requestId).toBe(answer.headers.get('x-request-id'));
    }
  });

  it('keeps an imported legacy key working unchanged', async () => {
    const legacyKey = `legacy_${Date.now()}_0123456789abcdef`;
    issuedKeys.push(legacyKey);
    const imported = expectStatus(await client.admin('POST', `/users/${tenant.owner.id}/legacy-keys`, { key: legacyKey }), 201);
    expect(imported.body.key).toBeUndefined();
    const answer = await client.call('GET', `/api/v1/chatbots/${supportBot().id}`, { key: legacyKey });
    expect(answer.status).toBe(200);
    expect(answer.body.received['x-api-key-type']).toBe('user');
  });

  it('counts every forwarded request exactly once, within 5 seconds', async () => {
    const { body: created } = await createChatbotKey(supportBot().id);
    const requests = 25;
    const answers = await Promise.all(
      Array.from({ length: requests }, () => client.call('GET', `/api/v1/chatbots/${supportBot().id}/x`, { key: created.key })),
    );
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    // Refused requests are not uses.
    expect((await client.call('GET', `/api/v1/chatbots/${salesBot().id}`, { key: created.key })).status).toBe(403);

    const usagePath = `/v1/chatbots/${supportBot().id}/api-keys/${created.id}/usage?interval=minute`;
    const usage = await eventually(
      () => client.call('GET', usagePath, { key: tenant.userKey }),
      (answer) => answer.body?.total === requests,
      { timeoutMs: 5000 },
    );
    expect(usage.status).toBe(200);
    expect(usage.body.total).toBe(requests);
    expect(usage.body.data.reduce((sum: number, point: { count: number }) => sum + point.count, 0)).toBe(requests);
    const listed = expectStatus(await client.call('GET', `/v1/chatbots/${supportBot().id}/api-keys`, { key: tenant.userKey }), 200);
    const lastUsedAt = listed.body.data.find((key: { id: string }) => key.id === created.id).lastUsedAt;
    expect(Date.now() - Date.parse(lastUsedAt)).toBeLessThan(60_000);

    const bad = await client.call('GET', `${usagePath.split('?')[0]}?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`, {
      key: tenant.userKey,
    });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_request']);
  });

  it('leaves no plaintext key in the database, Redis or any log line', async () => {
    expect(issuedKeys.length).toBeGreaterThanOrEqual(18);
    const stored = await dumpStoredData(system);
    const logs = system.logs();
    expect(stored.length).toBeGreaterThan(0);
    expect(logs.length).toBeGreaterThan(0);
    for (const key of issuedKeys) {
      expect(stored.includes(key)).toBe(false);
      expect(logs.includes(key)).toBe(false);
    }
  });
});
