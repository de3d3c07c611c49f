import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { hashApiKey } from '@app/contracts';
import { expectStatus } from '../client.js';
import { callChatbot, createChatbotKey, readiness, startFaultWorld, timed, type FaultWorld, type Tenant } from './fault-kit.js';
import { eventually } from '@app/testing';

/**
 * Redis (the verifier's cache) crashes, comes back empty, and later hangs. The gateway's own
 * cache is turned down to 1 ms so that every request below is really verified by the
 * auth-verifier: what a client notices is only that nothing changes.
 */
describe('fault: Redis down', () => {
  let world: FaultWorld;
  let tenant: Tenant;
  let supportBot: string;
  let salesBot: string;
  let inspector: Redis;

  beforeAll(async () => {
    world = await startFaultWorld({ AUTH_CACHE_TTL_MS: '1' });
    tenant = await world.client.provision('standard', ['Support bot', 'Sales bot']);
    [supportBot, salesBot] = tenant.chatbots.map((chatbot: { id: string }) => chatbot.id);
    inspector = new Redis(world.servers.redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 500 });
    inspector.on('error', () => undefined);
  }, 120_000);

  afterAll(async () => {
    inspector?.disconnect();
    await world?.stop();
  }, 60_000);

  /** Whether Redis holds a live key record for `key` (not absent, not a cached "no such key"). */
  const cachedInRedis = async (key: string) => {
    const value = await inspector.get(`${world.system.env.redisPrefix}key:${hashApiKey(key)}`).catch(() => null);
    return value !== null && value.startsWith('{');
  };

  /** Every kind of answer a client can get, each checked for exactly the right status. */
  async function expectCorrectAnswers(keys: { chatbotKey: string; revokedKey?: string }) {
    const answers = await Promise.all([
      timed(() => callChatbot(world.client, keys.chatbotKey, supportBot)),
      timed(() => callChatbot(world.client, keys.chatbotKey, salesBot)),
      timed(() => callChatbot(world.client, tenant.userKey, salesBot)),
      timed(() => world.client.call('GET', '/api/v1/account/usage', { key: tenant.userKey })),
      ...(keys.revokedKey ? [timed(() => callChatbot(world.client, keys.revokedKey!, supportBot))] : []),
    ]);
    expect(answers.map(({ value }) => value.status)).toEqual([200, 403, 200, 200, ...(keys.revokedKey ? [401] : [])]);
    return Math.max(...answers.map(({ ms }) => ms));
  }

  it('keeps verifying through key-management while Redis is down, and refills the cache once it is back', async () => {
    const first = await createChatbotKey(world.client, tenant, supportBot);
    await expectCorrectAnswers({ chatbotKey: first.key });
    await inspector.connect();
    // The verifier writes its answer to Redis beside replying, and not at all for a lookup that raced
    // the key's creation event: use the key until its record is there.
    const cached = await eventually(
      async () => {
        await callChatbot(world.client, first.key, supportBot);
        return cachedInRedis(first.key);
      },
      (found) => found,
      { timeoutMs: 10_000, intervalMs: 100, what: 'the key record cached in Redis' },
    );
    expect(cached).toBe(true);

    await world.servers.redis.kill();
    let slowest = 0;
    for (let round = 0; round < 10; round++) slowest = Math.max(slowest, await expectCorrectAnswers({ chatbotKey: first.key }));
    expect(slowest).toBeLessThan(1_000);

    // Keys made and revoked during the outage behave as always.
    const second = await createChatbotKey(world.client, tenant, supportBot);
    await expectCorrectAnswers({ chatbotKey: second.key });
    expectStatus(await world.client.call('DELETE', `/v1/chatbots/${supportBot}/api-keys/${first.id}`, { key: tenant.userKey }), 204);
    const revokedAt = Date.now();
    await eventually(
      async () => (await callChatbot(world.client, first.key, supportBot)).status,
      (status) => status === 401,
      { timeoutMs: 1_000, what: 'revoked key refused' },
    );
    expect(Date.now() - revokedAt).toBeLessThan(1_000);

    // The verifier stays in rotation, reporting itself degraded; nothing else minds.
    const states = await readiness(world.system);
    expect(Object.values(states).every((status) => status === 200)).toBe(true);
    const verifierHealth = await fetch(`http://127.0.0.1:${world.system.running.ports['auth-verifier']}/health/ready`).then((r) =>
      r.json(),
    );
    expect(verifierHealth).toMatchObject({ status: 'degraded', checks: { redis: 'down' } });

    // Redis comes back empty: the verifier reconnects by itself and the cache fills again.
    await world.servers.redis.start();
    await eventually(
      async () => {
        await expectCorrectAnswers({ chatbotKey: second.key, revokedKey: first.key });
        return cachedInRedis(second.key);
      },
      (cached) => cached,
      { timeoutMs: 10_000, what: 'the key record cached in Redis again' },
    );
    expect(await cachedInRedis(first.key)).toBe(false);
    await expectCorrectAnswers({ chatbotKey: second.key, revokedKey: first.key });
  }, 90_000);

  it('answers within bounds while Redis hangs (SIGSTOP), and applies a revocation made meanwhile once it resumes', async () => {
    const key = await createChatbotKey(world.client, tenant, supportBot);
    const doomed = await createChatbotKey(world.client, tenant, supportBot);
    await expectCorrectAnswers({ chatbotKey: key.key });
    // A lookup that raced the key's creation event is answered but not written to Redis: use the key until it is.
    await eventually(
      async () => {
        await expectCorrectAnswers({ chatbotKey: doomed.key });
        return cachedInRedis(doomed.key);
      },
      (cached) => cached,
      { timeoutMs: 2_000, what: 'the doomed key cached in Redis' },
    );

    world.servers.redis.pause();
    try {
      let slowest = 0;
      for (let round = 0; round < 5; round++) slowest = Math.max(slowest, await expectCorrectAnswers({ chatbotKey: key.key }));
      // Each Redis command gives up after REDIS_COMMAND_TIMEOUT_MS (250 ms); a verify makes at most a few in a row.
      expect(slowest).toBeLessThan(1_500);
      expectStatus(await world.client.call('DELETE', `/v1/chatbots/${supportBot}/api-keys/${doomed.id}`, { key: tenant.userKey }), 204);
      expect((await callChatbot(world.client, doomed.key, supportBot)).status).toBe(401);
    } finally {
      world.servers.redis.resume();
    }
    // Redis still holds the doomed key's record from before the hang: it must be gone, not served.
    await eventually(
      () => cachedInRedis(doomed.key),
      (cached) => !cached,
      { timeoutMs: 5_000, what: 'the revoked key dropped from Redis' },
    );
    await expectCorrectAnswers({ chatbotKey: key.key, revokedKey: doomed.key });
  }, 60_000);
});
