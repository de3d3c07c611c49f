// Redis memory per active key: the auth-verifier's cache entries and the gateways' rate-limit
// counts, written through the services' own code (from dist/) into a Redis server of the bench's
// own, so `used_memory` counts nothing else. Feeds the sizing section of docs/operations.md.
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, ROOT } from '../system.mjs';

const dist = (path) => pathToFileURL(join(ROOT, 'dist', path)).href;

/** Keys per chatbot and chatbots per account in the synthetic population (a busy platform's shape). */
const KEYS_PER_CHATBOT = 5;
const CHATBOTS_PER_ACCOUNT = 10;

export async function runRedisMemory({ keys, log }) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const { Redis } = await import('ioredis');
  const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null, retryStrategy: () => 50 });
  redis.on('error', () => {}); // refused until the server listens: retried
  try {
    await until(() => redis.ping().then(() => true), 10_000, 'the bench Redis server to start');
    const { createLogger } = await import(dist('libs/common/src/index.js'));
    const { AuthCacheRepository } = await import(dist('apps/auth-verifier/src/cache/auth-cache.repository.js'));
    const { RedisRateLimitStore } = await import(dist('apps/gateway/src/rate-limit/redis-rate-limit-store.js'));
    const logger = createLogger('bench-redis-memory', 'warn');

    const baseline = await usedMemory(redis);
    const cache = new AuthCacheRepository(
      redis,
      { keyPrefix: 'ck:', ttlMs: 3_600_000, negativeTtlMs: 60_000, maxPendingInvalidations: 1_000 },
      logger,
    );
    const chatbots = Math.ceil(keys / KEYS_PER_CHATBOT);
    const accounts = Math.ceil(chatbots / CHATBOTS_PER_ACCOUNT);
    const accountIds = Array.from({ length: accounts }, () => randomUUID());
    const chatbotIds = Array.from({ length: chatbots }, () => randomUUID());
    for (let i = 0; i < keys; i++) {
      const chatbot = Math.floor(i / KEYS_PER_CHATBOT);
      const accountId = accountIds[Math.floor(chatbot / CHATBOTS_PER_ACCOUNT)];
      const keyHash = createHash('sha256').update(`bench-key-${i}`).digest('hex');
      cache.setKeyRecord(keyHash, {
        keyId: randomUUID(),
        type: 'chatbot',
        accountId,
        chatbotId: chatbotIds[chatbot],
        userId: null,
        endsAt: null,
        allowedIps: null,
        rateLimit: null,
      });
      if (i % 1_000 === 999) await redis.ping(); // the writes are fire-and-forget: let them drain
    }
    chatbotIds.forEach((chatbotId, i) => cache.setChatbotOwner(chatbotId, accountIds[Math.floor(i / CHATBOTS_PER_ACCOUNT)], 0));
    for (const accountId of accountIds) cache.setPlan(accountId, 'standard', 0);
    // One Redis is one shard (0): key records and chatbot owners are entries of their own, the plans one hash.
    const cacheEntries = keys + chatbots + 1;
    await until(
      async () => (await redis.dbsize()) >= cacheEntries && (await redis.hlen('ck:plans')) >= accounts,
      60_000,
      'the cache entries to land',
    );
    const withCache = await usedMemory(redis);

    // Rate-limit counts: one hash per limited key and window, one field per gateway replica (3 here).
    const store = new RedisRateLimitStore(redis, 'ck:');
    const window = Math.floor(Date.now() / 60_000);
    const replicas = ['gw-a', 'gw-b', 'gw-c'];
    for (let i = 0; i < keys; i += 500) {
      const updates = [];
      for (let k = i; k < Math.min(keys, i + 500); k++) {
        for (const replica of replicas)
          updates.push({ keyId: randomUUID(), windowSeconds: 60, window, replica, own: 42, ttlMs: 120_000, active: true });
      }
      await store.sync(updates);
    }
    const withCounts = await usedMemory(redis);
    const result = {
      keys,
      chatbots,
      accounts,
      cacheBytesPerKey: (withCache - baseline) / keys,
      cacheMiB: (withCache - baseline) / 2 ** 20,
      rateLimitBytesPerKey: (withCounts - withCache) / keys,
      rateLimitMiB: (withCounts - withCache) / 2 ** 20,
      replicas: replicas.length,
    };
    log(
      `redis-memory: ${keys} keys: verifier cache ${result.cacheMiB.toFixed(1)} MiB (${result.cacheBytesPerKey.toFixed(0)} B/key), ` +
        `rate-limit counts ${result.rateLimitMiB.toFixed(1)} MiB (${result.rateLimitBytesPerKey.toFixed(0)} B/key, ${replicas.length} replicas)`,
    );
    return result;
  } finally {
    redis.disconnect();
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function usedMemory(redis) {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

async function until(condition, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
