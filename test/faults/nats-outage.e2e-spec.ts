import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SETTLE_MS } from '../../apps/gateway/src/auth/invalidation-log.js';
import { expectStatus } from '../client.js';
import {
  callChatbot,
  createChatbotKey,
  readiness,
  sleep,
  startFaultWorld,
  statusAndCode,
  timed,
  usageTotal,
  type FaultWorld,
  type Tenant,
} from './fault-kit.js';
import { answeredFromCache, eventually, GATEWAY_VERIFY_MISSES, usageAllAcknowledged } from '@app/testing';

/** The gateway's own cache of verify answers lives this long: the outage below outlasts it. */
const GATEWAY_CACHE_TTL_MS = 5_000;

/**
 * NATS goes away (SIGKILL) for longer than the gateway's cache TTL, then comes back on the
 * same port with its JetStream store. What a client notices: keys the gateway has cached keep
 * working until their TTL, every other key gets 503 auth_unavailable (never forwarded
 * unverified), the management API answers 503, and after NATS returns everything works again
 * without a restart, with every forwarded request counted exactly once.
 */
describe('fault: NATS down, then back', () => {
  let world: FaultWorld;
  let tenant: Tenant;
  let chatbotId: string;
  let cached: { id: string; key: string };
  let uncached: { id: string; key: string };
  const forwarded = new Map<string, number>();

  async function use(key: { id: string; key: string }) {
    const answer = await callChatbot(world.client, key.key, chatbotId);
    if (answer.status === 200) {
      expect(answer.body.received['x-api-key-id']).toBe(key.id);
      forwarded.set(key.id, (forwarded.get(key.id) ?? 0) + 1);
    }
    return answer;
  }

  beforeAll(async () => {
    world = await startFaultWorld({ AUTH_CACHE_TTL_MS: String(GATEWAY_CACHE_TTL_MS) });
    tenant = await world.client.provision('standard', ['Support bot']);
    chatbotId = tenant.chatbots[0].id;
    cached = await createChatbotKey(world.client, tenant, chatbotId);
    uncached = await createChatbotKey(world.client, tenant, chatbotId);
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  it('serves cached keys until their TTL, refuses the rest with 503, and recovers with exact usage totals', async () => {
    // A reply about a key created moments ago is used but not cached (SETTLE_MS): use it until the gateway answers
    // it from its cache. The use before that one stored the entry, which expires GATEWAY_CACHE_TTL_MS after.
    const usesStartedAt: number[] = [];
    const fromCache = await answeredFromCache(
      { metricsUrl: world.system.gatewayMetricsUrl, misses: GATEWAY_VERIFY_MISSES },
      () => (usesStartedAt.push(Date.now()), use(cached)),
      { timeoutMs: SETTLE_MS + 5_000 },
    );
    expect(fromCache.status).toBe(200);
    expect(usesStartedAt.length).toBeGreaterThan(1);
    const [storedFrom, storedBy] = usesStartedAt.slice(-2);
    await world.servers.nats.kill();
    const downAt = Date.now();

    // While the cache entry lives: the cached key is served, the uncached one is refused, fast.
    const served: number[] = [];
    while (Date.now() < storedFrom + GATEWAY_CACHE_TTL_MS - 1_500) {
      served.push((await use(cached)).status);
      // Paced: the cached key is used all through its entry's lifetime, not a condition to wait for.
      await sleep(100);
    }
    expect(served.length).toBeGreaterThan(10);
    expect(new Set(served)).toEqual(new Set([200]));
    const refused = await timed(() => use(uncached));
    expect(statusAndCode(refused.value)).toBe('503 auth_unavailable');
    expect(refused.value.headers.get('x-request-id')).toBeTruthy();
    expect(refused.ms).toBeLessThan(2_500);

    // The management API needs the verifier and key-management over NATS: a clean 503, not a hang or a 500.
    const listing = await timed(() => world.client.call('GET', `/v1/chatbots/${chatbotId}/api-keys`, { key: tenant.userKey }));
    expect(['503 auth_unavailable', '503 service_unavailable']).toContain(statusAndCode(listing.value));
    expect(listing.ms).toBeLessThan(2_500);

    // Gateways stay in rotation: cached keys still work through them (see docs on readiness).
    const duringOutage = await readiness(world.system);
    expect(duringOutage.gateway).toBe(200);

    // Past the TTL the cached key can no longer be vouched for: fail closed, never open. A time, not a condition:
    // the entry's TTL must run out.
    await sleep(Math.max(0, storedBy + GATEWAY_CACHE_TTL_MS + 200 - Date.now()));
    expect(statusAndCode(await use(cached))).toBe('503 auth_unavailable');
    expect(Date.now() - downAt).toBeGreaterThan(GATEWAY_CACHE_TTL_MS - 1_000);

    await world.servers.nats.start();
    const backAt = Date.now();
    // Every service reconnects by itself.
    await eventually(
      () => readiness(world.system),
      (states) => Object.values(states).every((status) => status === 200),
      { timeoutMs: 15_000, what: 'every service ready again' },
    );
    await eventually(
      async () => (await use(uncached)).status,
      (status) => status === 200,
      { timeoutMs: 10_000, what: 'the uncached key verified again' },
    );
    expect((await use(cached)).status).toBe(200);
    const recoveredInMs = Date.now() - backAt;
    expect(recoveredInMs).toBeLessThan(15_000);

    // Key-management, the verifier and the events are back: a new key works, a revoked one stops within a second.
    const fresh = await createChatbotKey(world.client, tenant, chatbotId);
    expect((await use(fresh)).status).toBe(200);
    expectStatus(await world.client.call('DELETE', `/v1/chatbots/${chatbotId}/api-keys/${fresh.id}`, { key: tenant.userKey }), 204);
    const revokedAt = Date.now();
    await eventually(
      async () => (await use(fresh)).status,
      (status) => status === 401,
      { timeoutMs: 1_000, what: 'the revoked key refused' },
    );
    expect(Date.now() - revokedAt).toBeLessThan(1_000);

    // No use is lost or counted twice: the totals match what was forwarded, and stay there.
    for (const key of [cached, uncached]) {
      const expected = forwarded.get(key.id) ?? 0;
      await eventually(
        () => usageTotal(world.client, tenant, chatbotId, key.id),
        (total) => total === expected,
        { timeoutMs: 15_000, what: `usage of ${key.id}` },
      );
    }
    await usageAllAcknowledged(world.system.env);
    for (const key of [cached, uncached]) {
      expect(await usageTotal(world.client, tenant, chatbotId, key.id)).toBe(forwarded.get(key.id) ?? 0);
    }
  }, 90_000);
});
