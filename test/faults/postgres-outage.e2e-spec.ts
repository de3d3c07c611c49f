import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectStatus } from '../client.js';
import {
  callChatbot,
  createChatbotKey,
  readiness,
  readyStatus,
  startFaultWorld,
  statusAndCode,
  timed,
  usageTotal,
  type FaultWorld,
  type Tenant,
} from './fault-kit.js';
import { answeredFromCache, eventually, usageAllAcknowledged, VERIFIER_CACHE_MISSES } from '@app/testing';

/**
 * PostgreSQL (key-management's and the usage-tracker's store) stops, then starts again. The
 * gateway's own cache is turned down to 1 ms, so keys are served from the verifier's Redis
 * cache alone. What a client notices: keys already verified keep working, a key never seen
 * gets 503, the management API answers 503 cleanly, and afterwards everything works again,
 * with the uses made during the outage counted.
 */
describe('fault: PostgreSQL down', () => {
  let world: FaultWorld;
  let tenant: Tenant;
  let chatbotId: string;
  const forwarded = new Map<string, number>();

  beforeAll(async () => {
    world = await startFaultWorld({ AUTH_CACHE_TTL_MS: '1' });
    tenant = await world.client.provision('standard', ['Support bot']);
    chatbotId = tenant.chatbots[0].id;
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  async function use(key: { id: string; key: string }) {
    const answer = await callChatbot(world.client, key.key, chatbotId);
    if (answer.status === 200) forwarded.set(key.id, (forwarded.get(key.id) ?? 0) + 1);
    return answer;
  }

  it('keeps cached keys verifying, answers management with 503, and recovers with every use counted', async () => {
    const known = await createChatbotKey(world.client, tenant, chatbotId);
    const unseen = await createChatbotKey(world.client, tenant, chatbotId);
    // What the verifier needs for `known` is in Redis once a use of it reads nothing from key-management: a lookup
    // that raced the key's creation event is used but not written back, so the first use may not be enough.
    const verifierUrl = `http://127.0.0.1:${world.system.running.ports['auth-verifier']}`;
    const cachedUse = await answeredFromCache({ metricsUrl: verifierUrl, misses: VERIFIER_CACHE_MISSES }, () => use(known), {
      timeoutMs: 10_000,
    });
    expect(cachedUse.status).toBe(200);

    await world.servers.postgres.stop();
    for (let round = 0; round < 20; round++) {
      expect(statusAndCode(await use(known))).toBe('200');
      expect((await world.client.call('GET', '/api/v1/account/usage', { key: tenant.userKey })).status).toBe(200);
    }
    // Never verified, so in no cache: nobody can vouch for it. Fail closed.
    const refused = await timed(() => use(unseen));
    expect(statusAndCode(refused.value)).toBe('503 auth_unavailable');
    expect(refused.ms).toBeLessThan(2_500);

    // Management and admin calls reach a key-management without its database: a clean 503 in the contract shape.
    for (const call of [
      () => world.client.call('GET', `/v1/chatbots/${chatbotId}/api-keys`, { key: tenant.userKey }),
      () => world.client.call('POST', `/v1/chatbots/${chatbotId}/api-keys`, { key: tenant.userKey, body: { name: 'during outage' } }),
      () => world.client.admin('POST', '/accounts', { name: 'During outage', plan: 'entry' }),
    ]) {
      const { value: answer, ms } = await timed(call);
      expect(statusAndCode(answer)).toBe('503 service_unavailable');
      expect(answer.body.error.requestId).toBe(answer.headers.get('x-request-id'));
      expect(ms).toBeLessThan(2_500);
    }
    const usage = await world.client.call('GET', `/v1/chatbots/${chatbotId}/api-keys/${known.id}/usage`, { key: tenant.userKey });
    expect(statusAndCode(usage)).toBe('503 service_unavailable');

    // Key-management and the tracker are out of rotation; the gateway and the verifier are not.
    const states = await readiness(world.system);
    expect(states).toMatchObject({ 'key-management': 503, 'usage-tracker': 503, gateway: 200, 'auth-verifier': 200 });

    await world.servers.postgres.start();
    const backAt = Date.now();
    await eventually(
      () => readiness(world.system),
      (all) => Object.values(all).every((status) => status === 200),
      { timeoutMs: 15_000, what: 'every service ready again' },
    );
    await eventually(
      async () => (await world.client.call('GET', `/v1/chatbots/${chatbotId}/api-keys`, { key: tenant.userKey })).status,
      (status) => status === 200,
      { timeoutMs: 10_000, what: 'management answering again' },
    );
    expect((await use(unseen)).status).toBe(200);
    const created = await createChatbotKey(world.client, tenant, chatbotId);
    expect((await use(created)).status).toBe(200);
    expect(Date.now() - backAt).toBeLessThan(20_000);
    expect(await readyStatus(world.system.gatewayUrl)).toBe(200);

    // Uses made while the tracker could not write waited in the stream: none lost, none doubled.
    for (const key of [known, unseen, created]) {
      const expected = forwarded.get(key.id) ?? 0;
      await eventually(
        () => usageTotal(world.client, tenant, chatbotId, key.id),
        (total) => total === expected,
        { timeoutMs: 15_000, what: `usage of ${key.id}` },
      );
    }
    await usageAllAcknowledged(world.system.env);
    expect(await usageTotal(world.client, tenant, chatbotId, known.id)).toBe(forwarded.get(known.id));
    expectStatus(await world.client.call('GET', `/v1/chatbots/${chatbotId}/api-keys`, { key: tenant.userKey }), 200);
  }, 90_000);
});
