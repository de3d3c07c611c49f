import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import {
  answeredFromCache,
  eventually,
  GATEWAY_VERIFY_MISSES,
  startPrivateNats,
  startPrivateRedis,
  startTestSystem,
  type PausableServer,
  type ServiceReplica,
  type TestSystem,
} from '@app/testing';
import { SETTLE_MS } from '../../apps/gateway/src/auth/invalidation-log.js';
import { expectStatus, GatewayClient, type Answer } from '../client.js';
import { pacedLoad, windowWithRoom, type Sent } from './paced-load.js';

const HOUR_MS = 3_600_000;

/**
 * Per-key rate limits on three gateway processes sharing one Redis and one NATS server of the
 * spec's own: the bounds a client relies on under concurrent load through all three, a replica
 * restarted mid-window, and Redis or NATS going away and coming back.
 */
describe('per-key rate limits across three gateways', () => {
  let redis: PausableServer;
  let nats: PausableServer;
  let system: TestSystem;
  let client: GatewayClient;
  let inspector: Redis;
  const replicas: ServiceReplica[] = [];
  let gateways: string[];
  /** Where each gateway's /metrics is, in the order of `gateways`. */
  let gatewayMetrics: string[];
  let userKey: string;
  let chatbotId: string;
  /** A second chatbot: a chatbot holds at most 10 active keys, and the tests make more than that. */
  let spareChatbotId: string;

  beforeAll(async () => {
    [redis, nats] = await Promise.all([startPrivateRedis(), startPrivateNats()]);
    system = await startTestSystem({ LOG_LEVEL: 'info' }, { servers: { redisUrl: redis.url, natsUrl: nats.url }, privateNats: true });
    replicas.push(await system.startReplica('gateway'), await system.startReplica('gateway'));
    gateways = [system.gatewayUrl, ...replicas.map((replica) => replica.url)];
    gatewayMetrics = [system.gatewayMetricsUrl, ...replicas.map((replica) => replica.metricsUrl)];
    client = new GatewayClient(system.gatewayUrl, system.adminToken);
    const tenant = await client.provision('standard', ['Support bot', 'Ops bot']);
    userKey = tenant.userKey;
    chatbotId = tenant.chatbots[0].id;
    spareChatbotId = tenant.chatbots[1].id;
    inspector = new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => 200 });
    inspector.on('error', () => undefined);
  }, 180_000);

  afterAll(async () => {
    inspector?.disconnect();
    await redis?.start().catch(() => undefined);
    await nats?.start().catch(() => undefined);
    await system?.stop();
    await Promise.all([redis?.destroy(), nats?.destroy()]);
  }, 60_000);

  const chatPath = () => `/api/v1/chatbots/${chatbotId}/conversations`;
  const call = (gateway: string, key: string) => new GatewayClient(gateway, '').call('GET', chatPath(), { key });

  async function limitedKey(rateLimit: { requests: number; windowSeconds: number } | null) {
    const answer = expectStatus(
      await client.call('POST', `/v1/chatbots/${chatbotId}/api-keys`, { key: userKey, body: { name: 'Limited', rateLimit } }),
      201,
    );
    expect(answer.body.rateLimit).toEqual(rateLimit);
    return { id: answer.body.id as string, key: answer.body.key as string };
  }

  /**
   * A reply about a key created moments ago is used but not cached (SETTLE_MS). Asks one gateway about the key on
   * a route out of its reach (which uses none of its limit) until the gateway answers from its cache: from then on
   * it caches the key's replies like those of any key in steady use.
   */
  async function settledOn(gateway: number, key: string): Promise<void> {
    const outOfReach = await answeredFromCache(
      { metricsUrl: gatewayMetrics[gateway], misses: GATEWAY_VERIFY_MISSES },
      () => new GatewayClient(gateways[gateway], '').call('GET', '/api/v1/account/usage', { key }),
      { timeoutMs: SETTLE_MS + 5_000 },
    );
    expectStatus(outOfReach, 403);
  }

  /** The replica-wide count Redis holds for a key's current window. */
  async function sharedCount(keyId: string, windowSeconds: number): Promise<number> {
    const window = Math.floor(Date.now() / (windowSeconds * 1000));
    const replicas = await inspector.hvals(`${system.env.redisPrefix}rl:${keyId}:${windowSeconds}:${window}`).catch(() => null);
    return replicas === null ? -1 : replicas.reduce((total, count) => total + Number(count), 0);
  }

  /**
   * For each gateway, how long after `since` the first request was sent whose answer met
   * `accept` (each gateway probed on its own, every 20 ms, for up to 3 s).
   */
  async function delaysUntil(since: number, key: string, accept: (answer: Answer) => boolean): Promise<number[]> {
    return Promise.all(
      gateways.map(async (gateway) => {
        let sentAt = since;
        await eventually(() => ((sentAt = Date.now()), call(gateway, key)), accept, {
          timeoutMs: 3_000,
          intervalMs: 20,
          what: `the change applied by ${gateway}`,
        });
        return sentAt - since;
      }),
    );
  }

  it('answers with the RateLimit fields, refuses past the limit with 429 and Retry-After, and applies a change on every gateway within a second', async () => {
    await windowWithRoom(HOUR_MS, 30_000);
    const limited = await limitedKey({ requests: 2, windowSeconds: 3600 });
    const unlimited = await limitedKey(null);
    // The answers below that are given before the key is judged (an unknown route, a body of the wrong type) find
    // it in the cache.
    await settledOn(0, limited.key);

    const first = expectStatus(await call(gateways[0], limited.key), 200);
    expect(first.headers.get('ratelimit-policy')).toBe('"key";q=2;w=3600');
    expect(first.headers.get('ratelimit')).toMatch(/^"key";r=1;t=\d+$/);
    expect(expectStatus(await call(gateways[0], limited.key), 200).headers.get('ratelimit')).toMatch(/^"key";r=0;t=\d+$/);
    const refused = expectStatus(await call(gateways[0], limited.key), 429);
    expect(refused.body.error.code).toBe('rate_limited');
    const reset = Number(/t=(\d+)/.exec(refused.headers.get('ratelimit')!)![1]);
    expect(Number(refused.headers.get('retry-after'))).toBe(reset);
    expect(reset).toBeGreaterThan(0);
    expect(reset).toBeLessThanOrEqual(3600);
    expect(refused.headers.get('ratelimit-policy')).toBe('"key";q=2;w=3600');

    // The gateway's own answers to the valid limited key carry the fields too, and do not use it up:
    // out of its reach (a chatbot key on an account route), a body of the wrong type, an unknown route.
    const policy = '"key";q=2;w=3600';
    for (const answer of [
      await new GatewayClient(gateways[0], '').call('GET', '/api/v1/account/usage', { key: limited.key }),
      await new GatewayClient(gateways[0], '').call('POST', '/api/v1/chat', {
        key: limited.key,
        headers: { 'content-type': 'text/plain' },
        body: 'hello',
      }),
      await new GatewayClient(gateways[0], '').call('GET', '/api/v2/chatbots', { key: limited.key }),
    ]) {
      expect([answer.status, answer.headers.get('ratelimit-policy'), answer.headers.get('ratelimit')]).toEqual([
        expect.any(Number),
        policy,
        expect.stringMatching(/^"key";r=0;t=\d+$/),
      ]);
      expect([403, 415, 404]).toContain(answer.status);
    }
    // A refusal is no use either: still exactly the two forwarded.
    expect(
      await eventually(
        () => sharedCount(limited.id, 3600),
        (count) => count === 2,
      ),
    ).toBe(2);

    const plain = expectStatus(await call(gateways[1], unlimited.key), 200);
    expect(plain.headers.get('ratelimit')).toBeNull();
    expect(plain.headers.get('ratelimit-policy')).toBeNull();

    // A raised limit reaches every gateway within a second of the PATCH answering…
    const raised = { requests: 50, windowSeconds: 3600 };
    expectStatus(
      await client.call('PATCH', `/v1/chatbots/${chatbotId}/api-keys/${limited.id}`, { key: userKey, body: { rateLimit: raised } }),
      200,
    );
    const raisedDelays = await delaysUntil(
      Date.now(),
      limited.key,
      (a) => a.status === 200 && a.headers.get('ratelimit-policy') === '"key";q=50;w=3600',
    );
    for (const delay of raisedDelays) expect(delay).toBeLessThan(1_000);
    const listed = expectStatus(await client.call('GET', `/v1/chatbots/${chatbotId}/api-keys`, { key: userKey }), 200);
    expect(listed.body.data.find((key: { id: string }) => key.id === limited.id).rateLimit).toEqual(raised);

    // …and so does removing it.
    expectStatus(
      await client.call('PATCH', `/v1/chatbots/${chatbotId}/api-keys/${limited.id}`, { key: userKey, body: { rateLimit: null } }),
      200,
    );
    const delays = await delaysUntil(Date.now(), limited.key, (a) => a.status === 200 && a.headers.get('ratelimit') === null);
    for (const delay of delays) expect(delay).toBeLessThan(1_000);

    // The owner sees the refusal beside the uses.
    const usage = await eventually(
      () =>
        client.call(
          'GET',
          `/v1/chatbots/${chatbotId}/api-keys/${limited.id}/usage?interval=minute&from=${new Date(Date.now() - 600_000).toISOString()}`,
          { key: userKey },
        ),
      (a) => a.status === 200 && a.body.data.reduce((sum: number, point: { refused: number }) => sum + point.refused, 0) >= 1,
      { timeoutMs: 5_000 },
    );
    const refusedTotal = usage.body.data.reduce((sum: number, point: { refused: number }) => sum + point.refused, 0);
    expect(refusedTotal).toBe(1);
    expect(usage.body.total).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('takes a rate limit on user-level keys too, and refuses a malformed one', async () => {
    const created = expectStatus(
      await client.call('POST', '/v1/api-keys', { key: userKey, body: { name: 'CI', rateLimit: { requests: 1, windowSeconds: 86_400 } } }),
      201,
    );
    expect(created.body.rateLimit).toEqual({ requests: 1, windowSeconds: 86_400 });
    const answer = await client.call('GET', '/api/v1/account/usage', { key: created.body.key });
    expect(answer.headers.get('ratelimit-policy')).toBe('"key";q=1;w=86400');
    for (const rateLimit of [{ requests: 0, windowSeconds: 1 }, { requests: 1, windowSeconds: 86_401 }, { requests: 5 }]) {
      expect((await client.call('POST', '/v1/api-keys', { key: userKey, body: { rateLimit } })).status).toBe(400);
      expect((await client.call('PATCH', `/v1/api-keys/${created.body.id}`, { key: userKey, body: { rateLimit } })).status).toBe(400);
    }
  });

  /**
   * The gateways' own count of forwarded requests per window, as they shared it in Redis (window
   * index → count). The spec checks it against what the client saw: their sum must equal the
   * 200 answers it got, so a window cannot hide a request.
   */
  async function sharedCounts(keyId: string, windowSeconds: number): Promise<Map<number, number>> {
    const prefix = `${system.env.redisPrefix}rl:${keyId}:${windowSeconds}:`;
    const entries = (await inspector.keys(`${prefix}*`)).filter((entry) => !entry.endsWith(':active'));
    const counts = new Map<number, number>();
    for (const entry of entries) {
      const replicas = await inspector.hvals(entry);
      counts.set(
        Number(entry.slice(prefix.length)),
        replicas.reduce((total, count) => total + Number(count), 0),
      );
    }
    return counts;
  }

  const sum = (counts: Map<number, number>) => [...counts.values()].reduce((total, count) => total + count, 0);
  /** The window a refusal was judged in: its Date header is written the moment the gateway refuses. */
  const refusedIn = (answer: Sent, windowMs: number) => Math.floor(Date.parse(answer.headers.get('date')!) / windowMs);

  for (const { windowSeconds, requests, runMs } of [
    { windowSeconds: 1, requests: 100, runMs: 8_000 },
    { windowSeconds: 60, requests: 150, runMs: 0 },
  ]) {
    it(`${windowSeconds} s window under load through all three gateways: under 80 % never refused, at 2x at most 110 % forwarded`, async () => {
      const windowMs = windowSeconds * 1000;
      const calm = await limitedKey({ requests, windowSeconds });
      const busy = await limitedKey({ requests, windowSeconds });
      // A long window is loaded from now to shortly before its end; short ones for several windows.
      const until = windowSeconds === 1 ? Date.now() + runMs : (await windowWithRoom(windowMs, 45_000)) - 2_000;
      const span = windowSeconds === 1 ? windowMs : until - Date.now();
      const load = (key: string, share: number) =>
        pacedLoad({ gateways, key, path: chatPath(), perSecond: (requests * share * 1000) / span, until, windowMs, within: [0, 1] });
      const [calmAnswers, busyAnswers] = await Promise.all([load(calm.key, 0.75), load(busy.key, 2)]);

      const forwarded = (answers: Sent[]) => answers.filter((answer) => answer.status === 200).length;
      expect(
        [...calmAnswers, ...busyAnswers].filter((answer) => answer.status !== 200 && answer.status !== 429).map((a) => a.status),
      ).toEqual([]);
      const calmCounts = await eventually(
        () => sharedCounts(calm.id, windowSeconds),
        (counts) => sum(counts) === forwarded(calmAnswers),
        { timeoutMs: 3_000 },
      );
      const busyCounts = await eventually(
        () => sharedCounts(busy.id, windowSeconds),
        (counts) => sum(counts) === forwarded(busyAnswers),
        { timeoutMs: 3_000 },
      );
      expect(sum(calmCounts)).toBe(forwarded(calmAnswers));
      expect(sum(busyCounts)).toBe(forwarded(busyAnswers));

      // The client planned 75 % of the limit per window; a busy machine may delay some requests into the
      // next window. Whatever happened, a refusal only ever comes in a window already at 80 % of the limit.
      for (const answer of calmAnswers.filter((a) => a.status === 429)) {
        expect(calmCounts.get(refusedIn(answer, windowMs)) ?? 0).toBeGreaterThanOrEqual(requests * 0.8);
      }
      // At twice the limit, no window forwards more than 110 % of it, and windows got near the limit (the run says
      // something: the gateways' shares may leave the last few requests of a window unspent).
      expect(Math.max(...busyCounts.values())).toBeLessThanOrEqual(requests * 1.1);
      const reached = [...busyCounts.values()].filter((count) => count >= requests * 0.9);
      expect(reached.length).toBeGreaterThanOrEqual(windowSeconds === 1 ? 2 : 1);
      for (const answer of busyAnswers.filter((a) => a.status === 429)) {
        expect(busyCounts.get(refusedIn(answer, windowMs)) ?? 0).toBeGreaterThanOrEqual(requests * 0.8);
      }
    }, 120_000);
  }

  for (const windowSeconds of [3600, 60]) {
    it(`a gateway restarted mid-window does not start the count again (${windowSeconds} s window)`, async () => {
      await windowWithRoom(windowSeconds * 1000, 50_000);
      const limited = await limitedKey({ requests: 60, windowSeconds });
      for (let i = 0; i < 30; i++) expectStatus(await call(gateways[i % 3], limited.key), 200);
      // The count is in Redis within a few sync intervals, not only in the gateways' memory.
      await eventually(
        () => sharedCount(limited.id, windowSeconds),
        (count) => count === 30,
        { timeoutMs: 2_000 },
      );
      expect(await sharedCount(limited.id, windowSeconds)).toBe(30);

      const crashed = replicas.pop()!;
      crashed.child.kill('SIGKILL');
      const restarted = await system.startReplica('gateway');
      replicas.push(restarted);
      gateways[2] = restarted.url;
      gatewayMetrics[2] = restarted.metricsUrl;

      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await call(restarted.url, limited.key)).status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(30);
      expect(statuses.filter((status) => status === 429)).toHaveLength(10);
      expect(Math.floor(Date.now() / (windowSeconds * 1000))).toBe(Math.floor((Date.now() - 1) / (windowSeconds * 1000)));
    }, 120_000);
  }

  it('with Redis down each gateway limits on its own, never refusing traffic for that, and shares the counts again once Redis is back', async () => {
    await windowWithRoom(HOUR_MS, 60_000);
    const limited = await limitedKey({ requests: 10, windowSeconds: 3600 });
    const unlimited = await limitedKey(null);
    await redis.kill();

    for (const gateway of gateways) {
      const statuses: number[] = [];
      for (let i = 0; i < 15; i++) statuses.push((await call(gateway, limited.key)).status);
      // Its own count only: the limit, then refusals; never a failure because Redis is gone.
      expect(statuses).toEqual([...Array(10).fill(200), ...Array(5).fill(429)]);
      expect((await call(gateway, unlimited.key)).status).toBe(200);
    }

    await redis.start();
    // Each gateway pushes the admissions it counted alone: the shared count is all of them.
    await eventually(
      () => sharedCount(limited.id, 3600),
      (count) => count === 30,
      { timeoutMs: 10_000 },
    );
    expect(await sharedCount(limited.id, 3600)).toBe(30);
    for (const gateway of gateways) expect((await call(gateway, limited.key)).status).toBe(429);
  }, 120_000);

  it('with NATS down the gateways keep limiting the keys they cache, never refusing traffic for that', async () => {
    await windowWithRoom(HOUR_MS, 60_000);
    chatbotId = spareChatbotId;
    const limited = await limitedKey({ requests: 6, windowSeconds: 3600 });
    const unlimited = await limitedKey(null);
    // Each gateway caches both keys.
    for (const [index, gateway] of gateways.entries()) {
      await settledOn(index, limited.key);
      await settledOn(index, unlimited.key);
      expectStatus(await call(gateway, limited.key), 200);
      expectStatus(await call(gateway, unlimited.key), 200);
    }
    await nats.kill();

    // Counts still go through Redis: 3 of 6 are used; more pass across the gateways, then 429s; never a 503,
    // and every forwarded request is in the shared count.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await call(gateways[i % 3], limited.key)).status);
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    const forwarded = statuses.filter((status) => status === 200).length;
    expect(forwarded).toBeGreaterThanOrEqual(1);
    // Still limited: 9 more requests than the 3 left are refused in part (which ones depends on how the
    // gateways' shares of the remainder moved between syncs).
    expect(statuses).toContain(429);
    for (const gateway of gateways) expect((await call(gateway, unlimited.key)).status).toBe(200);
    expect(
      await eventually(
        () => sharedCount(limited.id, 3600),
        (count) => count === 3 + forwarded,
      ),
    ).toBe(3 + forwarded);

    await nats.start();
  }, 120_000);
});
