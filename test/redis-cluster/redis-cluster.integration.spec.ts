import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster } from 'ioredis';
import { clusterSlot, createLogger, createRedisClient, NatsBus, RedisShards, type RedisClient } from '@app/common';
import {
  generateApiKey,
  hashApiKey,
  type AccountView,
  type ChatbotView,
  type KeyRecord,
  type UserView,
  type VerifyReply,
} from '@app/contracts';
import {
  accountPayload,
  chatbotPayload,
  keyMaterial,
  startPrivateRedisCluster,
  testEnvironment,
  userPayload,
  eventually,
  type PrivateRedisCluster,
} from '@app/testing';
import { startVerifierStack, type VerifierStack } from '../../libs/testing/src/verifier-stack.js';
import { AuthCacheRepository } from '../../apps/auth-verifier/src/cache/auth-cache.repository.js';
import { hit, MISS } from '../../apps/auth-verifier/src/cache/cache-read.js';
import { DEFAULT_RATE_LIMITER_OPTIONS, KeyRateLimiter } from '../../apps/gateway/src/rate-limit/key-rate-limiter.js';
import { RedisRateLimitStore } from '../../apps/gateway/src/rate-limit/redis-rate-limit-store.js';
import { makeCertificates, type TestCertificates } from '../deploy/certificates.js';

const logger = createLogger('redis-cluster-spec', 'silent');
const PASSWORD = 'cluster-test-password';

/**
 * The services' Redis clients against a real three-node Redis Cluster with TLS (the nodes
 * announce the host name their certificate names) and a password, as a managed cluster runs.
 */
describe('on a Redis Cluster (TLS, password)', () => {
  const env = testEnvironment();
  const clients: RedisClient[] = [];
  let dir: string;
  let certificates: TestCertificates;
  let cluster: PrivateRedisCluster;
  let inspector: Cluster;

  function client(): RedisClient {
    const redis = createRedisClient({ url: cluster.url, caFile: certificates.caFile, commandTimeoutMs: 1_000 }, logger);
    clients.push(redis);
    return redis;
  }

  async function ready(redis: RedisClient): Promise<RedisClient> {
    const connected = () =>
      redis instanceof Cluster && redis.nodes('master').length === 3 && redis.nodes().every((node) => node.status === 'ready');
    await eventually(async () => connected(), Boolean, { what: 'the cluster client to be connected to every node', timeoutMs: 15_000 });
    return redis;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'redis-cluster-spec-'));
    certificates = makeCertificates(dir);
    cluster = await startPrivateRedisCluster({ password: PASSWORD, tls: certificates });
    inspector = new Cluster([{ host: 'localhost', port: cluster.nodes[0].port }], {
      redisOptions: { password: PASSWORD, tls: cluster.nodeOptions.tls },
      dnsLookup: (address, callback) => callback(null, address),
    });
    await eventually(async () => inspector.status === 'ready', Boolean, { what: 'the inspecting client', timeoutMs: 15_000 });
  }, 60_000);

  afterAll(async () => {
    for (const redis of clients) redis.disconnect();
    inspector?.disconnect();
    await cluster?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('connecting', () => {
    it('reaches every node over TLS with the password from the URL', async () => {
      const redis = await ready(client());
      expect(redis.isCluster).toBe(true);
      const names = Array.from({ length: 30 }, (_, index) => `${env.redisPrefix}probe:${index}`);
      for (const name of names) await redis.set(name, name, 'PX', 60_000);
      const owners = new Set(names.map((name) => cluster.nodeOwning(clusterSlot(name)).port));
      expect(owners.size).toBe(3);
      for (const name of names) await expect(inspector.get(name)).resolves.toBe(name);
      // The slots the services compute (to pick shard tags) are the cluster's own.
      for (const name of [...names, `${env.redisPrefix}${RedisShards.cluster().tag(9)}key:x`, 'a{}b', '{}{x}', 'x{y']) {
        await expect(inspector.cluster('KEYSLOT', name)).resolves.toBe(clusterSlot(name));
      }
    });

    it('is refused with a wrong password, and without the CA', async () => {
      const errors = new Map<RedisClient, string[]>();
      const connect = (url: string, caFile?: string) => {
        const redis = createRedisClient({ url, caFile, commandTimeoutMs: 500 }, logger);
        clients.push(redis);
        const seen: string[] = [];
        errors.set(redis, seen);
        redis.on('node error', (error: Error) => seen.push(error.message));
        return redis;
      };
      const wrong = connect(cluster.url.replace(PASSWORD, 'wrong-password'), certificates.caFile);
      const untrusting = connect(cluster.url);
      await eventually(async () => errors.get(wrong)!.some((message) => /WRONGPASS/.test(message)), Boolean, {
        what: 'the password to be refused',
        timeoutMs: 15_000,
      });
      await eventually(async () => errors.get(untrusting)!.some((message) => /certificate/.test(message)), Boolean, {
        what: 'the certificate to be refused',
        timeoutMs: 15_000,
      });
      for (const redis of [wrong, untrusting]) {
        await expect(redis.get(`${env.redisPrefix}probe:0`)).rejects.toThrow();
      }
    });
  });

  describe("the verifier's cache", () => {
    const record = (accountId: string): KeyRecord => ({
      keyId: 'key-1',
      type: 'chatbot',
      accountId,
      chatbotId: 'bot-1',
      userId: null,
      endsAt: null,
      allowedIps: null,
      rateLimit: null,
    });
    const settings = (keyPrefix: string) => ({ keyPrefix, ttlMs: 60_000, negativeTtlMs: 10_000, maxPendingInvalidations: 1_000 });
    const shards = RedisShards.cluster();
    /** Key hashes covering every shard. */
    const hashesPerShard = new Map<number, string>();
    while (hashesPerShard.size < shards.count) {
      const keyHash = hashApiKey(generateApiKey('chatbot'));
      if (!hashesPerShard.has(shards.shardOf(keyHash))) hashesPerShard.set(shards.shardOf(keyHash), keyHash);
    }

    it('reads a key, its plan and the chatbot in one script in the key’s shard, on every node', async () => {
      const prefix = `${env.redisPrefix}read:`;
      const sut = new AuthCacheRepository(await ready(client()), settings(prefix), logger);
      for (const [shard, keyHash] of hashesPerShard) {
        sut.setKeyRecord(keyHash, record('acc-1'));
        sut.setPlan('acc-1', 'standard', shard);
        sut.setChatbotOwner('bot-1', 'acc-1', shard);
      }
      await eventually(async () => (await inspector.exists(`${prefix}${shards.tag(15)}chatbot:bot-1`)) === 1, Boolean, {
        what: 'the writes',
        timeoutMs: 15_000,
      });

      for (const [shard, keyHash] of hashesPerShard) {
        await expect(sut.readForVerify(keyHash, 'bot-1')).resolves.toEqual({
          shard,
          key: hit(record('acc-1')),
          plan: { id: 'acc-1', read: hit('standard') },
          chatbot: { id: 'bot-1', read: hit('acc-1') },
        });
        const names = [`key:${keyHash}`, 'plans', 'chatbot:bot-1', 'generation'].map((entry) => `${prefix}${shards.tag(shard)}${entry}`);
        expect(new Set(names.map(clusterSlot)).size).toBe(1);
      }
      const nodes = new Set([...hashesPerShard.keys()].map((shard) => cluster.nodeOwning(clusterSlot(shards.tag(shard))).port));
      expect(nodes.size).toBe(3);
    });

    it('writes plan changes and deleted chatbots to every shard; a revocation to its key’s', async () => {
      const prefix = `${env.redisPrefix}invalidate:`;
      const redis = await ready(client());
      const sut = new AuthCacheRepository(redis, settings(prefix), logger);
      for (const [shard, keyHash] of hashesPerShard) {
        sut.setKeyRecord(keyHash, record('acc-2'));
        sut.setPlan('acc-2', 'standard', shard);
      }
      sut.storePlanChange('acc-2', 'free');
      sut.storeChatbotDeleted('bot-1');
      const revoked = hashesPerShard.get(7)!;
      sut.forgetKeyRecord(revoked);

      await eventually(async () => (await sut.readForVerify(revoked, null)).key.state === 'miss', Boolean, {
        what: 'the revocation',
        timeoutMs: 15_000,
      });
      for (const [shard, keyHash] of hashesPerShard) {
        if (keyHash === revoked) continue;
        await expect(sut.readForVerify(keyHash, 'bot-1')).resolves.toEqual({
          shard,
          key: hit(record('acc-2')),
          plan: { id: 'acc-2', read: hit('free') },
          chatbot: { id: 'bot-1', read: hit(null) },
        });
      }
    });

    it('after missed events, moves every shard to a new generation; no replica reads what was written before', async () => {
      const prefix = `${env.redisPrefix}generations:`;
      const [one, other] = [await ready(client()), await ready(client())];
      const sut = new AuthCacheRepository(one, settings(prefix), logger);
      const otherReplica = new AuthCacheRepository(other, settings(prefix), logger);
      for (const keyHash of hashesPerShard.values()) sut.setKeyRecord(keyHash, record('acc-3'));
      for (const keyHash of hashesPerShard.values()) {
        await eventually(async () => (await otherReplica.readForVerify(keyHash, null)).key.state === 'hit', Boolean, {
          what: 'the record',
          timeoutMs: 15_000,
        });
      }

      sut.distrustAll();
      await eventually(
        async () =>
          (await Promise.all(shards.all().map((shard) => inspector.get(`${prefix}${shards.tag(shard)}generation`)))).every(
            (g) => g === '1',
          ),
        Boolean,
        { what: 'every shard to move to generation 1', timeoutMs: 15_000 },
      );

      for (const keyHash of hashesPerShard.values()) {
        await expect(otherReplica.readForVerify(keyHash, null)).resolves.toMatchObject({ key: MISS });
        await expect(sut.readForVerify(keyHash, null)).resolves.toMatchObject({ key: MISS });
      }
      const fresh = hashesPerShard.get(3)!;
      otherReplica.setKeyRecord(fresh, record('acc-3'));
      await eventually(async () => (await sut.readForVerify(fresh, null)).key.state === 'hit', Boolean, {
        what: 'an answer in the new generation',
        timeoutMs: 15_000,
      });
      expect(await inspector.exists(`${prefix}${shards.tag(3)}g1:key:${fresh}`)).toBe(1);
    });
  });

  describe("the gateway's rate-limit counts", () => {
    it('are shared by two gateway replicas for keys in every shard', async () => {
      const prefix = `${env.redisPrefix}rl:`;
      const limit = { requests: 20, windowSeconds: 3_600 };
      // A load that timed out would count from zero (by design): the machine running the suite may be slow.
      const options = { ...DEFAULT_RATE_LIMITER_OPTIONS, predictOthers: false, loadTimeoutMs: 5_000 };
      const [first, second] = [
        new KeyRateLimiter(new RedisRateLimitStore(await ready(client()), prefix), options),
        new KeyRateLimiter(new RedisRateLimitStore(await ready(client()), prefix), options),
      ];
      const keyIds = Array.from({ length: 48 }, (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`);

      for (const keyId of keyIds) {
        for (let request = 0; request < 12; request += 1) expect((await first.decideAfterLoad(keyId, limit)).allowed).toBe(true);
      }
      await first.sync();
      expect(first.shared).toBe(true);

      for (const keyId of keyIds) {
        const decisions = [];
        for (let request = 0; request < 12; request += 1) decisions.push((await second.decideAfterLoad(keyId, limit)).allowed);
        // It sees the first replica's 12 (alone it would forward all 12): at most the 8 left, and at
        // least its share of them while the first still counts as serving the key.
        const allowed = decisions.filter(Boolean).length;
        expect([keyId, allowed >= 4 && allowed <= 8]).toEqual([keyId, true]);
      }
      await second.sync();
      expect(second.shared).toBe(true);
      const nodes = new Set(
        keyIds.map((keyId) => cluster.nodeOwning(clusterSlot(RedisShards.cluster().tag(RedisShards.cluster().shardOf(keyId)))).port),
      );
      expect(nodes.size).toBe(3);
    });
  });

  describe('the auth-verifier with key-management, NATS and PostgreSQL', () => {
    const prefix = `${env.redisPrefix}verifier:`;
    const shards = RedisShards.cluster();
    let stack: VerifierStack;
    let bus: NatsBus;
    let owner: UserView;
    let chatbot: ChatbotView;

    /** Key material whose entries live on `port`'s node (any node when none is given). */
    function materialOn(port?: number) {
      for (;;) {
        const material = keyMaterial('chatbot');
        if (port === undefined || nodeOf(material.keyHash) === port) return material;
      }
    }

    function nodeOf(keyHash: string): number {
      return cluster.nodeOwning(clusterSlot(shards.tag(shards.shardOf(keyHash)))).port;
    }

    function keyEntryName(keyHash: string): string {
      return `${prefix}${shards.tag(shards.shardOf(keyHash))}key:${keyHash}`;
    }

    async function createKey(material: { keyHash: string; prefix: string }): Promise<string> {
      const view = await bus.request('createKey', {
        actor: { userId: owner.id },
        chatbotId: chatbot.id,
        name: 'Zapier',
        keyHash: material.keyHash,
        prefix: material.prefix,
      });
      return view.id;
    }

    const verify = async (key: string) => (await bus.requestBare('authVerify', { key, chatbotId: chatbot.id })) as VerifyReply;

    /** Answers are cached once the verifier's client has connected to the node (a replica just started may not have yet). */
    async function verifiedAndCached(material: { key: string; keyHash: string }): Promise<void> {
      await eventually(
        async () => (await verify(material.key)).valid && (await inspector.exists(keyEntryName(material.keyHash)).catch(() => 0)) === 1,
        Boolean,
        { what: 'the record to be cached', timeoutMs: 15_000 },
      );
    }

    async function cacheReads(): Promise<Record<string, number>> {
      const base = (await stack.verifier.getUrl()).replace('[::1]', '127.0.0.1');
      const text = await (await fetch(`${base}/metrics`)).text();
      const reads: Record<string, number> = {};
      for (const [, entry, result, value] of text.matchAll(/auth_verifier_cache_reads_total\{entry="(\w+)",result="(\w+)"\} (\d+)/g)) {
        reads[`${entry} ${result}`] = Number(value);
      }
      return reads;
    }

    /** Verifies until `done` holds; returns how long that took, failing past `limitMs`. */
    async function within(limitMs: number, key: string, done: (reply: VerifyReply) => boolean): Promise<number> {
      const started = Date.now();
      await eventually(() => verify(key), done, { timeoutMs: limitMs, intervalMs: 10, what: 'the verify reply' });
      return Date.now() - started;
    }

    beforeAll(async () => {
      stack = await startVerifierStack(env, {
        name: 'redis-cluster-spec',
        verifierEnv: { REDIS_URL: cluster.url, REDIS_CA_FILE: certificates.caFile, REDIS_KEY_PREFIX: prefix },
      });
      bus = stack.bus;
      const account: AccountView = await bus.request('adminCreateAccount', accountPayload({ plan: 'standard' }));
      owner = await bus.request('adminCreateUser', userPayload(account.id, 'owner'));
      chatbot = await bus.request('adminCreateChatbot', chatbotPayload(account.id));
    }, 60_000);

    afterAll(async () => {
      await stack?.stop();
    });

    it('answers a second verify from the cluster: the key record and the plan in one read', async () => {
      const material = materialOn();
      const keyId = await createKey(material);
      await verifiedAndCached(material);
      await eventually(
        async () => (await inspector.hexists(`${prefix}${shards.tag(shards.shardOf(material.keyHash))}plans`, chatbot.accountId)) === 1,
        Boolean,
        { what: 'the plan to be cached', timeoutMs: 15_000 },
      );

      const before = await cacheReads();
      await expect(verify(material.key)).resolves.toMatchObject({ valid: true, allowed: true, keyId });
      const after = await cacheReads();
      expect(after['key hit'] - (before['key hit'] ?? 0)).toBe(1);
      expect(after['account hit'] - (before['account hit'] ?? 0)).toBe(1);
      expect(after['key unavailable'] ?? 0).toBe(before['key unavailable'] ?? 0);
    });

    it('refuses a revoked key within a second; a replica started afterwards refuses it too', async () => {
      const material = materialOn();
      const keyId = await createKey(material);
      await verifiedAndCached(material);

      await bus.request('revokeKey', { actor: { userId: owner.id }, chatbotId: chatbot.id, keyId });
      expect(await within(1_000, material.key, (reply) => !reply.valid)).toBeLessThan(1_000);
      expect(await inspector.get(keyEntryName(material.keyHash))).not.toContain(keyId);

      // A fresh replica: it knows nothing of earlier events, so what it answers comes from Redis or PostgreSQL.
      await stack.restartVerifier();
      await expect(verify(material.key)).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
    });

    it('stays correct while a node is down and after it restarts empty: the cache refills from PostgreSQL', async () => {
      const live = materialOn();
      const port = nodeOf(live.keyHash);
      const doomed = materialOn(port);
      const [liveId, doomedId] = [await createKey(live), await createKey(doomed)];
      for (const material of [live, doomed]) await verifiedAndCached(material);
      const node = cluster.nodes.find((candidate) => candidate.port === port)!;

      await node.kill();
      // Its slots cannot be read: key-management answers, and a revocation still takes effect.
      await expect(verify(live.key)).resolves.toMatchObject({ valid: true, allowed: true, keyId: liveId });
      await bus.request('revokeKey', { actor: { userId: owner.id }, chatbotId: chatbot.id, keyId: doomedId });
      expect(await within(1_000, doomed.key, (reply) => !reply.valid)).toBeLessThan(1_000);

      await node.start();
      await cluster.waitHealthy();
      await eventually(
        async () => (await verify(live.key)).valid && (await inspector.exists(keyEntryName(live.keyHash)).catch(() => 0)) === 1,
        Boolean,
        { what: 'the live key to be cached on the restarted node', timeoutMs: 15_000 },
      );
      await expect(verify(doomed.key)).resolves.toEqual({ valid: false, code: 'invalid_api_key' });

      await stack.restartVerifier();
      await expect(verify(live.key)).resolves.toMatchObject({ valid: true, allowed: true, keyId: liveId });
      await expect(verify(doomed.key)).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
    }, 60_000);
  });
});
