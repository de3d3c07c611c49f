import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { createLogger, createRedisClient, type RedisClient } from '@app/common';
import { generateApiKey, hashApiKey, type KeyRecord, type Plan } from '@app/contracts';
import { startPrivateRedis, testEnvironment, type PausableServer, eventually } from '@app/testing';
import { AuthCacheRepository, type AuthCacheSettings } from './auth-cache.repository.js';
import { MISS, UNAVAILABLE, hit, type CacheRead } from './cache-read.js';

const logger = createLogger('auth-verifier-test', 'silent');
const record: KeyRecord = {
  keyId: 'key-1',
  type: 'chatbot',
  accountId: 'acc-1',
  chatbotId: 'bot-1',
  userId: null,
  endsAt: null,
  allowedIps: null,
  rateLimit: { requests: 100, windowSeconds: 60 },
};
const userRecord: KeyRecord = {
  keyId: 'key-2',
  type: 'user',
  accountId: 'acc-1',
  chatbotId: null,
  userId: 'user-1',
  endsAt: null,
  allowedIps: null,
  rateLimit: null,
};

function settings(keyPrefix: string): AuthCacheSettings {
  return { keyPrefix, ttlMs: 60_000, negativeTtlMs: 10_000, maxPendingInvalidations: 100 };
}

/** The key entry as a verify reads it: with the script, along with no chatbot. */
async function keyEntry(sut: AuthCacheRepository, keyHash: string): Promise<CacheRead<KeyRecord>> {
  return (await sut.readForVerify(keyHash, null)).key;
}

/** Writes are fire-and-forget; a PING sent after them answers only once they are done. */
async function flushed(redis: RedisClient): Promise<void> {
  await redis.ping();
}

describe('AuthCacheRepository against real Redis', () => {
  const env = testEnvironment();
  let redis: RedisClient;
  let inspector: Redis;
  let sut: AuthCacheRepository;

  beforeAll(async () => {
    redis = createRedisClient({ url: env.redisUrl, commandTimeoutMs: 250 }, logger);
    inspector = new Redis(env.redisUrl);
    await new Promise((resolve) => redis.once('ready', resolve));
    sut = new AuthCacheRepository(redis, settings(env.redisPrefix), logger);
  });

  afterEach(async () => {
    const keys = await inspector.keys(`${env.redisPrefix}*`);
    if (keys.length) await inspector.del(...keys);
  });

  afterAll(async () => {
    await redis.quit();
    await inspector.quit();
  });

  it('after missed events, no replica reads an entry written before; later answers and invalidations land in the new generation', async () => {
    // Replicas of their own: each remembers the generation it last read.
    const sut = new AuthCacheRepository(redis, settings(`${env.redisPrefix}generations:`), logger);
    const other = new AuthCacheRepository(redis, settings(`${env.redisPrefix}generations:`), logger);
    const [stale, fresh] = [hashApiKey(generateApiKey('chatbot')), hashApiKey(generateApiKey('chatbot'))];
    sut.setKeyRecord(stale, record);
    sut.setPlan('acc-1', 'standard', 0);
    await flushed(redis);
    await expect(keyEntry(other, stale)).resolves.toEqual(hit(record));

    sut.distrustAll();
    await flushed(redis);

    // Neither this replica nor another one reads what was cached before the gap.
    await expect(keyEntry(sut, stale)).resolves.toEqual(MISS);
    await expect(keyEntry(other, stale)).resolves.toEqual(MISS);
    await expect(other.getPlan('acc-1', 0)).resolves.toEqual(MISS);
    // What is looked up afterwards is cached again, for every replica.
    other.setKeyRecord(fresh, record);
    await flushed(redis);
    await expect(keyEntry(sut, fresh)).resolves.toEqual(hit(record));
    // An invalidation reaches the current generation, whichever generation its replica last read.
    sut.distrustAll();
    await flushed(redis);
    sut.setKeyRecord(fresh, record);
    await flushed(redis);
    other.forgetKeyRecord(fresh);
    await flushed(redis);
    await expect(keyEntry(sut, fresh)).resolves.toEqual(MISS);
  });

  it('stores a key record under its hash only, with the positive TTL', async () => {
    const key = generateApiKey('chatbot');
    const keyHash = hashApiKey(key);

    sut.setKeyRecord(keyHash, record);
    await flushed(redis);

    await expect(keyEntry(sut, keyHash)).resolves.toEqual({ state: 'hit', value: record });
    const keys = await inspector.keys(`${env.redisPrefix}*`);
    expect(keys).toEqual([`${env.redisPrefix}key:${keyHash}`]);
    const ttl = await inspector.pttl(keys[0]);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const stored = `${keys[0]} ${await inspector.get(keys[0])}`;
    expect(stored).not.toContain(key);
    expect(stored).not.toContain(key.slice(4, 36));
  });

  it('caches negative answers with the short TTL and reads them back as known-absent', async () => {
    const keyHash = hashApiKey(generateApiKey('user'));

    sut.setKeyRecord(keyHash, null);
    sut.setPlan('acc-unknown', null, 0);
    sut.setChatbotOwner('bot-unknown', null, 0);
    await flushed(redis);

    await expect(keyEntry(sut, keyHash)).resolves.toEqual({ state: 'hit', value: null });
    await expect(sut.getPlan('acc-unknown', 0)).resolves.toEqual({ state: 'hit', value: null });
    await expect(sut.getChatbotOwner('bot-unknown', 0)).resolves.toEqual({ state: 'hit', value: null });
    const ttl = await inspector.pttl(`${env.redisPrefix}key:${keyHash}`);
    expect(ttl).toBeGreaterThan(5_000);
    expect(ttl).toBeLessThanOrEqual(10_000);
  });

  it('lets a plan expire with its own TTL although the hash holding it lives on, and drops expired plans', async () => {
    const sut = new AuthCacheRepository(redis, { ...settings(`${env.redisPrefix}plan-ttl:`), ttlMs: 300, negativeTtlMs: 100 }, logger);
    const plans = `${env.redisPrefix}plan-ttl:plans`;
    sut.setPlan('acc-gone', null, 0);
    sut.setPlan('acc-1', 'standard', 0);
    await flushed(redis);
    await expect(sut.getPlan('acc-gone', 0)).resolves.toEqual(hit(null));

    await eventually(async () => (await sut.getPlan('acc-gone', 0)).state === 'miss', Boolean, {
      what: 'the negative answer to expire',
      timeoutMs: 2_000,
    });
    await expect(sut.getPlan('acc-1', 0)).resolves.toEqual(hit('standard'));
    await eventually(async () => (await sut.getPlan('acc-1', 0)).state === 'miss', Boolean, {
      what: 'the plan to expire',
      timeoutMs: 2_000,
    });
    // Later writes sweep expired fields out of the hash; the hash itself expires once nothing is written.
    for (let account = 0; account < 20; account += 1) sut.setPlan(`acc-new-${account}`, 'entry', 0);
    await flushed(redis);
    expect(await inspector.hexists(plans, 'acc-gone')).toBe(0);
    expect(await inspector.pttl(plans)).toBeLessThanOrEqual(300);
  });

  it('reports a miss for absent entries and for values it did not write', async () => {
    const keyHash = hashApiKey(generateApiKey('chatbot'));
    await inspector.set(`${env.redisPrefix}key:${keyHash}`, '{"keyId":1}');
    await inspector.hset(`${env.redisPrefix}plans`, 'acc-1', 'platinum');
    await inspector.hset(`${env.redisPrefix}plans`, 'acc-2', `${Date.now() + 60_000}:platinum`);

    await expect(keyEntry(sut, keyHash)).resolves.toEqual({ state: 'miss' });
    await expect(sut.getPlan('acc-2', 0)).resolves.toEqual({ state: 'miss' });
    await expect(sut.getPlan('acc-1', 0)).resolves.toEqual({ state: 'miss' });
    await expect(sut.getChatbotOwner('bot-1', 0)).resolves.toEqual({ state: 'miss' });
  });

  it('refuses to build a cache key from anything but a key hash', () => {
    expect(() => sut.setKeyRecord(generateApiKey('chatbot'), record)).toThrow(/hash only/);
  });

  it('applies invalidations: forget a key, store a plan change and a deleted chatbot for the full TTL', async () => {
    const keyHash = hashApiKey(generateApiKey('chatbot'));
    sut.setKeyRecord(keyHash, record);
    sut.setPlan('acc-1', 'standard', 0);
    sut.setChatbotOwner('bot-1', 'acc-1', 0);

    sut.forgetKeyRecord(keyHash);
    sut.storePlanChange('acc-1', 'free');
    sut.storeChatbotDeleted('bot-1');
    await flushed(redis);

    await expect(keyEntry(sut, keyHash)).resolves.toEqual({ state: 'miss' });
    await expect(sut.getPlan('acc-1', 0)).resolves.toEqual({ state: 'hit', value: 'free' });
    await expect(sut.getChatbotOwner('bot-1', 0)).resolves.toEqual({ state: 'hit', value: null });
    expect(await inspector.pttl(`${env.redisPrefix}chatbot:bot-1`)).toBeGreaterThan(55_000);
  });

  describe('readForVerify', () => {
    it('reads the key record, its account’s plan and the chatbot entry with one command', async () => {
      const keyHash = hashApiKey(generateApiKey('chatbot'));
      sut.setKeyRecord(keyHash, record);
      sut.setPlan('acc-1', 'standard', 0);
      sut.setChatbotOwner('bot-1', 'acc-1', 0);
      await flushed(redis);
      const seen = await watchCommands(inspector, env.redisPrefix);

      try {
        await expect(sut.readForVerify(keyHash, 'bot-1')).resolves.toEqual({
          shard: 0,
          key: hit(record),
          plan: { id: 'acc-1', read: hit<Plan>('standard') },
          chatbot: { id: 'bot-1', read: hit('acc-1') },
        });
        const commands = await seen.upTo(`${env.redisPrefix}sentinel`);
        expect(commands.fromClients.map(([name]) => name.toLowerCase())).toEqual([expect.stringMatching(/^eval(sha)?$/)]);
        expect(commands.fromScripts).toEqual([
          ['GET', `${env.redisPrefix}generation`],
          ['GET', `${env.redisPrefix}key:${keyHash}`],
          ['HGET', `${env.redisPrefix}plans`, 'acc-1'],
          ['GET', `${env.redisPrefix}chatbot:bot-1`],
        ]);
      } finally {
        seen.stop();
      }
    });

    it('reads a missing key entry as a miss and reads no plan', async () => {
      const keyHash = hashApiKey(generateApiKey('chatbot'));
      sut.setPlan('acc-1', 'standard', 0);
      await flushed(redis);

      await expect(sut.readForVerify(keyHash, null)).resolves.toEqual({ shard: 0, key: MISS, plan: null, chatbot: null });
      await expect(sut.readForVerify(keyHash, 'bot-1')).resolves.toEqual({
        shard: 0,
        key: MISS,
        plan: null,
        chatbot: { id: 'bot-1', read: MISS },
      });
    });

    it('reads the plan as a miss when only the key record is cached', async () => {
      const keyHash = hashApiKey(generateApiKey('chatbot'));
      sut.setKeyRecord(keyHash, record);
      await flushed(redis);

      await expect(sut.readForVerify(keyHash, 'bot-1')).resolves.toEqual({
        shard: 0,
        key: hit(record),
        plan: { id: 'acc-1', read: MISS },
        chatbot: { id: 'bot-1', read: MISS },
      });
    });

    it('reads no plan along with a user-level key’s record', async () => {
      const keyHash = hashApiKey(generateApiKey('user'));
      sut.setKeyRecord(keyHash, userRecord);
      sut.setPlan('acc-1', 'standard', 0);
      sut.setChatbotOwner('bot-1', 'acc-1', 0);
      await flushed(redis);

      await expect(sut.readForVerify(keyHash, 'bot-1')).resolves.toEqual({
        shard: 0,
        key: hit(userRecord),
        plan: null,
        chatbot: { id: 'bot-1', read: hit('acc-1') },
      });
    });

    it('reads the cached knowledge that there is none as such', async () => {
      const unknownHash = hashApiKey(generateApiKey('chatbot'));
      const keyHash = hashApiKey(generateApiKey('chatbot'));
      sut.setKeyRecord(unknownHash, null);
      sut.setKeyRecord(keyHash, record);
      sut.setPlan('acc-1', null, 0);
      sut.storeChatbotDeleted('bot-1');
      await flushed(redis);

      await expect(sut.readForVerify(unknownHash, 'bot-1')).resolves.toEqual({
        shard: 0,
        key: hit<KeyRecord>(null),
        plan: null,
        chatbot: { id: 'bot-1', read: hit<string>(null) },
      });
      await expect(sut.readForVerify(keyHash, 'bot-1')).resolves.toEqual({
        shard: 0,
        key: hit(record),
        plan: { id: 'acc-1', read: hit<Plan>(null) },
        chatbot: { id: 'bot-1', read: hit<string>(null) },
      });
    });

    it.each([
      ['no JSON', 'not a record'],
      ['broken JSON', '{"type":"chatbot","accountId":"acc-1"'],
      ['a JSON number', '42'],
      ['a JSON array', '["chatbot","acc-1"]'],
      ['a record without a type', '{"keyId":1}'],
      ['an account id that is no string', '{"type":"chatbot","accountId":7}'],
    ])('reads a key entry holding %s as a miss, and reads no plan', async (_case, value) => {
      const keyHash = hashApiKey(generateApiKey('chatbot'));
      await inspector.set(`${env.redisPrefix}key:${keyHash}`, value);
      sut.setPlan('acc-1', 'standard', 0);
      await flushed(redis);

      await expect(sut.readForVerify(keyHash, null)).resolves.toEqual({ shard: 0, key: MISS, plan: null, chatbot: null });
    });

    it('reads an invalid chatbot-key record as a miss, but the plan it names as that account’s', async () => {
      const keyHash = hashApiKey(generateApiKey('chatbot'));
      await inspector.set(`${env.redisPrefix}key:${keyHash}`, '{"type":"chatbot","accountId":"acc-1"}');
      await inspector.set(`${env.redisPrefix}chatbot:bot-1`, '!none');
      await inspector.hset(`${env.redisPrefix}plans`, 'acc-1', `${Date.now() + 60_000}:platinum`);

      await expect(sut.readForVerify(keyHash, 'bot-1')).resolves.toEqual({
        shard: 0,
        key: MISS,
        plan: { id: 'acc-1', read: MISS },
        chatbot: { id: 'bot-1', read: hit<string>(null) },
      });
      sut.setPlan('acc-1', 'professional', 0);
      await flushed(redis);
      await expect(sut.readForVerify(keyHash, null)).resolves.toEqual({
        shard: 0,
        key: MISS,
        plan: { id: 'acc-1', read: hit<Plan>('professional') },
        chatbot: null,
      });
    });
  });
});

describe('AuthCacheRepository while Redis is down', () => {
  const keyHash = hashApiKey(generateApiKey('chatbot'));
  let server: PausableServer;
  let redis: RedisClient;
  let sut: AuthCacheRepository;

  beforeAll(async () => {
    // A Redis of this test's own that saves its data when stopped: the shared one is never stopped.
    server = await startPrivateRedis({ persistent: true });
    redis = createRedisClient({ url: server.url, commandTimeoutMs: 250 }, logger);
    await new Promise((resolve) => redis.once('ready', resolve));
    sut = new AuthCacheRepository(redis, settings('outage:'), logger);
  });

  afterAll(async () => {
    await redis.quit();
    await server.destroy();
  });

  it('answers unavailable at once instead of stalling, and replays invalidations once Redis is back', async () => {
    sut.setKeyRecord(keyHash, record);
    await flushed(redis);
    // Redis goes away with the record saved: it comes back holding it, now stale.
    await server.stop();

    const started = Date.now();
    await expect(keyEntry(sut, keyHash)).resolves.toEqual({ state: 'unavailable' });
    await expect(sut.getPlan('acc-1', 0)).resolves.toEqual({ state: 'unavailable' });
    sut.forgetKeyRecord(keyHash);
    sut.storePlanChange('acc-1', 'free');
    expect(Date.now() - started).toBeLessThan(100);

    await server.start();
    await eventually(async () => (await sut.getPlan('acc-1', 0)).state === 'hit', Boolean, {
      timeoutMs: 5_000,
      what: 'the plan to be read again',
    });
    await expect(sut.getPlan('acc-1', 0)).resolves.toEqual({ state: 'hit', value: 'free' });
    await expect(keyEntry(sut, keyHash)).resolves.toEqual({ state: 'miss' });
  });

  it('reads every entry as unavailable while Redis is down, and reads them again once it is back', async () => {
    sut.setKeyRecord(keyHash, record);
    sut.setPlan('acc-1', 'standard', 0);
    await flushed(redis);
    await server.stop();

    await expect(sut.readForVerify(keyHash, 'bot-1')).resolves.toEqual({
      shard: 0,
      key: UNAVAILABLE,
      plan: null,
      chatbot: { id: 'bot-1', read: UNAVAILABLE },
    });

    await server.start();
    await eventually(async () => (await sut.readForVerify(keyHash, null)).key.state !== 'unavailable', Boolean, {
      timeoutMs: 5_000,
      what: 'Redis to be read again',
    });
    await expect(sut.readForVerify(keyHash, 'bot-1')).resolves.toEqual({
      shard: 0,
      key: hit(record),
      plan: { id: 'acc-1', read: hit<Plan>('standard') },
      chatbot: { id: 'bot-1', read: MISS },
    });
  });

  it('runs the script again once Redis has forgotten it', async () => {
    sut.setKeyRecord(keyHash, record);
    sut.setPlan('acc-1', 'entry', 0);
    await flushed(redis);
    await sut.readForVerify(keyHash, null);
    const admin = new Redis(server.url);
    try {
      await admin.script('FLUSH');
      await admin.config('RESETSTAT');

      await expect(sut.readForVerify(keyHash, null)).resolves.toEqual({
        shard: 0,
        key: hit(record),
        plan: { id: 'acc-1', read: hit<Plan>('entry') },
        chatbot: null,
      });
      // It got there by EVALSHA refused with NOSCRIPT, then EVAL.
      expect(await admin.info('errorstats')).toMatch(/errorstat_NOSCRIPT:count=1\b/);
    } finally {
      await admin.quit();
    }
  });
});

/**
 * Records, from a MONITOR connection, the commands naming keys under `prefix`: those clients
 * sent and those scripts ran. `upTo(sentinel)` GETs the sentinel and answers once it is seen,
 * so every command sent before it has been recorded.
 */
async function watchCommands(inspector: Redis, prefix: string) {
  const monitor = await inspector.monitor();
  const fromClients: string[][] = [];
  const fromScripts: string[][] = [];
  let sentinelSeen: ((value: void) => void) | undefined;
  let sentinel = '';
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (!args.some((arg) => arg.startsWith(prefix))) return;
    if (args[1] === sentinel) return sentinelSeen?.();
    (source === 'lua' ? fromScripts : fromClients).push(args);
  });
  return {
    async upTo(name: string) {
      sentinel = name;
      const seen = new Promise<void>((resolve) => (sentinelSeen = resolve));
      await inspector.get(name);
      await seen;
      return { fromClients, fromScripts };
    },
    // QUIT's reply would be taken for monitor data: the connection is closed instead.
    stop: () => monitor.disconnect(),
  };
}
