import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { generateApiKey, hashApiKey } from '@app/contracts';
import { httpRequest, startTestSystem, type ServiceReplica, type TestSystem, eventually } from '@app/testing';
import { expectStatus, GatewayClient, type Answer } from './client.js';

const SSO_SECRET = 'audit-e2e-secret-0123456789-abcdefghij';
const SSO_ISSUER = 'https://idp.audit.test/';
const SSO_AUDIENCE = 'chatbot-keys-audit-e2e';
const REPORT_KEY_ID = 'github-key-1';

/**
 * The audit log and leak reports through the gateway, as clients use them: every change is
 * recorded with the actor that made it (user-level key, SSO token, admin token, the system),
 * with its request id and client address; a signed leak report revokes live keys on every
 * gateway within a second, and a badly signed one revokes nothing.
 */
describe('audit log and leaked-key reports, end to end', () => {
  let system: TestSystem;
  let client: GatewayClient;
  let secondGateway: ServiceReplica;
  let reportKey: KeyObject;

  beforeAll(async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    reportKey = pair.privateKey;
    const keysFile = join(mkdtempSync(join(tmpdir(), 'secret-scanning-')), 'keys.json');
    const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(keysFile, JSON.stringify({ public_keys: [{ key_identifier: REPORT_KEY_ID, key: pem, is_current: true }] }));
    system = await startTestSystem({ SSO_HS256_SECRET: SSO_SECRET, SSO_ISSUER, SSO_AUDIENCE, SECRET_SCANNING_KEYS_FILE: keysFile });
    secondGateway = await system.startReplica('gateway');
    client = new GatewayClient(system.gatewayUrl, system.adminToken);
  }, 300_000);

  afterAll(() => system?.stop());

  const withRequestId = (requestId: string) => ({ 'x-request-id': requestId });
  const ssoToken = (subject: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject)
      .setIssuer(SSO_ISSUER)
      .setAudience(SSO_AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SSO_SECRET));

  it('records every management and admin change with the actor that made it, its request id and client address', async () => {
    const admin = (method: string, path: string, body: unknown, requestId: string) =>
      client.call(method, `/admin/v1${path}`, { key: system.adminToken, body, headers: withRequestId(requestId) });
    const account = expectStatus(await admin('POST', '/accounts', { name: 'Audited Agency', plan: 'entry' }, 'rq-account'), 201).body;
    const bot = expectStatus(await admin('POST', `/accounts/${account.id}/chatbots`, { name: 'Support' }, 'rq-bot'), 201).body;
    const doomed = expectStatus(await admin('POST', `/accounts/${account.id}/chatbots`, { name: 'Doomed' }, 'rq-doomed'), 201).body;
    const owner = expectStatus(
      await admin('POST', `/accounts/${account.id}/users`, { email: 'owner@audit.test', role: 'owner' }, 'rq-owner'),
      201,
    ).body;
    const member = expectStatus(
      await admin(
        'POST',
        `/accounts/${account.id}/users`,
        { email: 'm@audit.test', role: 'member', ssoSubject: 'idp|audit-member', chatbotIds: [bot.id] },
        'rq-member',
      ),
      201,
    ).body;
    const ownerKey = expectStatus(await admin('POST', `/users/${owner.id}/api-keys`, { name: 'Owner key' }, 'rq-owner-key'), 201).body;
    const legacy = expectStatus(
      await admin('POST', `/users/${owner.id}/legacy-keys`, { key: `legacy-${generateApiKey('user').slice(4)}` }, 'rq-legacy'),
      201,
    ).body;

    const asOwner = (method: string, path: string, body: unknown, requestId: string) =>
      client.call(method, path, { key: ownerKey.key, body, headers: withRequestId(requestId) });
    const created = expectStatus(await asOwner('POST', `/v1/chatbots/${bot.id}/api-keys`, { name: 'Zapier' }, 'rq-create'), 201).body;
    expectStatus(await asOwner('PATCH', `/v1/chatbots/${bot.id}/api-keys/${created.id}`, { name: 'Make' }, 'rq-rename'), 200);
    expectStatus(await asOwner('DELETE', `/v1/chatbots/${bot.id}/api-keys/${created.id}`, undefined, 'rq-revoke'), 204);
    const memberToken = await ssoToken('idp|audit-member');
    const memberKey = expectStatus(
      await client.call('POST', `/v1/chatbots/${bot.id}/api-keys`, {
        key: memberToken,
        body: { name: 'Mine' },
        headers: withRequestId('rq-sso'),
      }),
      201,
    ).body;
    const onDoomed = expectStatus(
      await asOwner('POST', `/v1/chatbots/${doomed.id}/api-keys`, { name: 'Gone soon' }, 'rq-doomed-key'),
      201,
    ).body;
    expectStatus(await admin('PATCH', `/accounts/${account.id}`, { plan: 'standard' }, 'rq-plan'), 200);
    expectStatus(await admin('PUT', `/users/${member.id}/chatbots`, { chatbotIds: [bot.id, doomed.id] }, 'rq-assign'), 200);
    expectStatus(await admin('DELETE', `/chatbots/${doomed.id}`, undefined, 'rq-delete'), 204);

    const page = expectStatus(await client.call('GET', '/v1/audit-events?limit=200', { key: ownerKey.key }), 200).body;
    expect(page.nextCursor).toBeNull();
    const seen = [...page.data].reverse().map((event: any) => [event.action, event.actor.type, event.actor.id, event.requestId]);
    expect(seen.slice(0, 15)).toEqual([
      ['account.created', 'admin', null, 'rq-account'],
      ['chatbot.created', 'admin', null, 'rq-bot'],
      ['chatbot.created', 'admin', null, 'rq-doomed'],
      ['user.created', 'admin', null, 'rq-owner'],
      ['user.created', 'admin', null, 'rq-member'],
      ['key.created', 'admin', null, 'rq-owner-key'],
      ['key.imported', 'admin', null, 'rq-legacy'],
      ['key.created', 'user', owner.id, 'rq-create'],
      ['key.renamed', 'user', owner.id, 'rq-rename'],
      ['key.revoked', 'user', owner.id, 'rq-revoke'],
      ['key.created', 'sso', member.id, 'rq-sso'],
      ['key.created', 'user', owner.id, 'rq-doomed-key'],
      ['account.plan_changed', 'admin', null, 'rq-plan'],
      ['user.assignments_changed', 'admin', null, 'rq-assign'],
      expect.arrayContaining(['admin', null, 'rq-delete']),
    ]);
    expect(
      seen
        .slice(14)
        .map(([action]: string[]) => action)
        .sort(),
    ).toEqual(['chatbot.deleted', 'key.revoked']);
    for (const event of page.data) {
      expect(event.accountId).toBe(account.id);
      expect(event.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
    }
    expect(page.data.find((event: any) => event.keyId === memberKey.id)).toMatchObject({
      chatbotId: bot.id,
      details: { name: 'Mine', type: 'chatbot' },
    });
    expect(page.data.find((event: any) => event.keyId === onDoomed.id && event.action === 'key.revoked')).toMatchObject({
      requestId: 'rq-delete',
    });
    expect(JSON.stringify(page.data)).not.toContain(hashApiKey(memberKey.key));

    // The admin API reads the same log; filters narrow it; pages follow the cursor.
    const adminPage = expectStatus(await client.admin('GET', `/accounts/${account.id}/audit-events?limit=200`), 200).body;
    expect(adminPage.data).toEqual(page.data);
    const forKey = expectStatus(await client.call('GET', `/v1/audit-events?keyId=${created.id}`, { key: ownerKey.key }), 200).body;
    expect(forKey.data.map((event: any) => event.action)).toEqual(['key.revoked', 'key.renamed', 'key.created']);
    const first = expectStatus(await client.call('GET', '/v1/audit-events?limit=4', { key: ownerKey.key }), 200).body;
    const next = expectStatus(
      await client.call('GET', `/v1/audit-events?limit=4&cursor=${first.nextCursor}`, { key: ownerKey.key }),
      200,
    ).body;
    expect([...first.data, ...next.data]).toEqual(page.data.slice(0, 8));
    expectStatus(await client.call('GET', '/v1/audit-events?action=key.exploded', { key: ownerKey.key }), 400);
    expectStatus(await client.admin('GET', `/accounts/00000000-0000-4000-8000-000000000000/audit-events`), 404);

    // A member sees the events of their chatbots only; a chatbot key sees nothing at all.
    expectStatus(await admin('PUT', `/users/${member.id}/chatbots`, { chatbotIds: [bot.id] }, 'rq-narrow'), 200);
    const memberView = expectStatus(
      await client.call('GET', '/v1/audit-events?limit=200', { key: await ssoToken('idp|audit-member') }),
      200,
    ).body;
    expect(memberView.data.length).toBeGreaterThan(0);
    expect(memberView.data).toEqual(page.data.filter((event: any) => event.chatbotId === bot.id));
    const refused = expectStatus(await client.call('GET', '/v1/audit-events', { key: memberKey.key }), 403);
    expect(refused.body.error.code).toBe('insufficient_scope');
    expect(legacy.id).toEqual(expect.any(String));
  }, 90_000);

  describe('leak reports', () => {
    let tenant: Awaited<ReturnType<GatewayClient['provision']>>;
    let botId: string;

    beforeAll(async () => {
      tenant = await client.provision('entry', ['Leaky bot']);
      botId = tenant.chatbots[0].id;
    }, 60_000);

    const newKey = async (name: string) =>
      expectStatus(await client.call('POST', `/v1/chatbots/${botId}/api-keys`, { key: tenant.userKey, body: { name } }), 201).body as {
        id: string;
        key: string;
      };
    const use = (baseUrl: string, key: string) => httpRequest(baseUrl, { path: `/api/v1/chatbots/${botId}/x`, key });
    const report = (tokens: object[], signWith: KeyObject = reportKey, keyId = REPORT_KEY_ID): Promise<Answer> => {
      const body = JSON.stringify(tokens);
      const signature = sign('sha256', Buffer.from(body), signWith).toString('base64');
      return client.call('POST', '/v1/secret-scanning/reports', {
        body,
        headers: { 'github-public-key-identifier': keyId, 'github-public-key-signature': signature },
      });
    };

    it('revokes every live key reported with a good signature on every gateway within a second, audited as key.leaked', async () => {
      const leaked = await newKey('Leaked');
      for (const gateway of [system.gatewayUrl, secondGateway.url]) expect((await use(gateway, leaked.key)).status).toBe(200);
      const wrongChecksum = leaked.key.slice(0, -1) + (leaked.key.endsWith('A') ? 'B' : 'A');
      const unknown = generateApiKey('chatbot');
      const where = { type: 'chatbot_keys_api_key', url: 'https://github.com/acme/app/blob/main/.env', source: 'content' };

      const answer = expectStatus(
        await report([
          { token: leaked.key, ...where },
          { token: wrongChecksum, ...where },
          { token: unknown, ...where },
        ]),
        200,
      );
      const answeredAt = Date.now();
      expect(answer.body).toEqual([
        { token_hash: hashApiKey(leaked.key), token_type: where.type, label: 'true_positive' },
        { token_hash: hashApiKey(wrongChecksum), token_type: where.type, label: 'false_positive' },
        { token_hash: hashApiKey(unknown), token_type: where.type, label: 'false_positive' },
      ]);
      for (const gateway of [system.gatewayUrl, secondGateway.url]) {
        const refused = await eventually(
          () => use(gateway, leaked.key),
          (result) => result.status === 401,
          { timeoutMs: 1000 },
        );
        expect(refused.status).toBe(401);
      }
      expect(Date.now() - answeredAt).toBeLessThan(1000);

      const events = expectStatus(
        await client.call('GET', `/v1/audit-events?keyId=${leaked.id}&action=key.leaked`, { key: tenant.userKey }),
        200,
      ).body;
      expect(events.data).toEqual([
        expect.objectContaining({
          action: 'key.leaked',
          actor: { type: 'system', id: null },
          chatbotId: botId,
          details: { url: where.url, source: where.source },
        }),
      ]);
      // Reported again: no longer live.
      expect(expectStatus(await report([{ token: leaked.key, ...where }]), 200).body[0].label).toBe('false_positive');
      expect(system.logs()).not.toContain(leaked.key);
    });

    it('revokes nothing on a missing, wrong or unknown-key signature: 401 invalid_signature', async () => {
      const safe = await newKey('Safe');
      const token = { token: safe.key, type: 'chatbot_keys_api_key', url: 'https://example.test', source: 'content' };
      const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      const answers = [
        await report([token], stranger),
        await report([token], reportKey, 'github-key-unknown'),
        await client.call('POST', '/v1/secret-scanning/reports', { body: [token] }),
        await client.call('POST', '/v1/secret-scanning/reports', {
          body: [token],
          headers: { 'github-public-key-identifier': REPORT_KEY_ID, 'github-public-key-signature': 'bm90IGEgc2lnbmF0dXJl' },
        }),
      ];
      for (const answer of answers) {
        expect(answer.status).toBe(401);
        expect(answer.body.error.code).toBe('invalid_signature');
      }
      // A signature over other bytes than those sent does not verify either.
      const body = JSON.stringify([token]);
      const tampered = await client.call('POST', '/v1/secret-scanning/reports', {
        body: `${body} `,
        headers: {
          'github-public-key-identifier': REPORT_KEY_ID,
          'github-public-key-signature': sign('sha256', Buffer.from(body), reportKey).toString('base64'),
        },
      });
      expect(tampered.status).toBe(401);

      expect((await use(system.gatewayUrl, safe.key)).status).toBe(200);
      const events = expectStatus(await client.call('GET', `/v1/audit-events?keyId=${safe.id}`, { key: tenant.userKey }), 200).body;
      expect(events.data.map((event: any) => event.action)).toEqual(['key.created']);
    });

    it('refuses a signed report that is not a list of tokens, and one too large', async () => {
      expect((await report({ token: 'x' } as never)).status).toBe(400);
      expect((await report([])).status).toBe(400);
      const huge = Array.from({ length: 1001 }, () => ({ token: generateApiKey('chatbot'), type: 't', url: 'u', source: 's' }));
      expect((await report(huge)).status).toBe(400);
      const oversized = [{ token: 'x'.repeat(20), type: 't', url: 'u'.repeat(1024 * 1024), source: 's' }];
      const answer = await report(oversized);
      expect(answer.status).toBe(413);
      expect(answer.body.error.code).toBe('payload_too_large');
    });
  });
});
