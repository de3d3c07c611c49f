import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createLogger, NatsBus } from '@app/common';
import { hashApiKey, type AccountView, type ChatbotView, type UserView, type VerifyReply } from '@app/contracts';
import { accountPayload, chatbotPayload, eventually, freePort, keyMaterial, testEnvironment, userPayload } from '@app/testing';
import { startVerifierStack, type VerifierStack } from '../../../libs/testing/src/verifier-stack.js';

const logger = createLogger('auth-verifier-spec', 'silent');

/**
 * The verifier as the gateway meets it: `auth.verify` over real NATS, its cache in real
 * Redis, and the real key-management (with its own migrated database) behind it. Keys are
 * made the way the gateway makes them: only hashes go to key-management.
 */
describe('auth-verifier with key-management, Redis and NATS', () => {
  const env = testEnvironment();
  const plaintexts: string[] = [];
  let stack: VerifierStack;
  let bus: NatsBus;
  let redis: Redis;
  let account: AccountView;
  let owner: UserView;
  let chatbot: ChatbotView;
  let otherChatbot: ChatbotView;
  let foreignChatbot: ChatbotView;
  let chatbotKey: { key: string; id: string };
  let userKey: { key: string; id: string };

  async function createChatbotKey(chatbotId: string): Promise<{ key: string; id: string }> {
    const material = keyMaterial('chatbot');
    plaintexts.push(material.key);
    const view = await bus.request('createKey', {
      actor: { userId: owner.id },
      chatbotId,
      name: 'Zapier',
      keyHash: material.keyHash,
      prefix: material.prefix,
    });
    return { key: material.key, id: view.id };
  }

  beforeAll(async () => {
    stack = await startVerifierStack(env, { name: 'auth-verifier-spec' });
    bus = stack.bus;
    redis = new Redis(env.redisUrl);

    account = await bus.request('adminCreateAccount', accountPayload({ plan: 'standard' }));
    owner = await bus.request('adminCreateUser', userPayload(account.id, 'owner'));
    chatbot = await bus.request('adminCreateChatbot', chatbotPayload(account.id));
    otherChatbot = await bus.request('adminCreateChatbot', chatbotPayload(account.id));
    const otherAccount = await bus.request('adminCreateAccount', accountPayload({ plan: 'professional' }));
    foreignChatbot = await bus.request('adminCreateChatbot', chatbotPayload(otherAccount.id));

    chatbotKey = await createChatbotKey(chatbot.id);
    const material = keyMaterial('user');
    plaintexts.push(material.key);
    const view = await bus.request('adminCreateUserKey', {
      userId: owner.id,
      name: 'CI',
      keyHash: material.keyHash,
      prefix: material.prefix,
    });
    userKey = { key: material.key, id: view.id };
  });

  afterAll(async () => {
    await stack?.stop();
    const keys = await redis.keys(`${env.redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('allows a chatbot key on its own chatbot', async () => {
    await expect(bus.requestBare('authVerify', { key: chatbotKey.key, chatbotId: chatbot.id })).resolves.toEqual({
      valid: true,
      allowed: true,
      keyId: chatbotKey.id,
      type: 'chatbot',
      accountId: account.id,
      chatbotId: chatbot.id,
      userId: null,
      rateLimit: null,
    });
  });

  it('gives a chatbot key insufficient_scope on another chatbot and on account routes', async () => {
    await expect(bus.requestBare('authVerify', { key: chatbotKey.key, chatbotId: otherChatbot.id })).resolves.toMatchObject({
      valid: true,
      allowed: false,
      code: 'insufficient_scope',
      keyId: chatbotKey.id,
      chatbotId: otherChatbot.id,
    });
    await expect(bus.requestBare('authVerify', { key: chatbotKey.key })).resolves.toMatchObject({
      valid: true,
      allowed: false,
      code: 'insufficient_scope',
    });
  });

  it('lets a user-level key reach its own account only', async () => {
    const mine = { valid: true, allowed: true, keyId: userKey.id, type: 'user', accountId: account.id, userId: owner.id, rateLimit: null };
    await expect(bus.requestBare('authVerify', { key: userKey.key })).resolves.toEqual({ ...mine, chatbotId: null });
    await expect(bus.requestBare('authVerify', { key: userKey.key, chatbotId: otherChatbot.id })).resolves.toEqual({
      ...mine,
      chatbotId: otherChatbot.id,
    });
    for (const chatbotId of [foreignChatbot.id, randomUUID()]) {
      await expect(bus.requestBare('authVerify', { key: userKey.key, chatbotId })).resolves.toMatchObject({
        valid: true,
        allowed: false,
        code: 'insufficient_scope',
        chatbotId,
      });
    }
  });

  it('refuses malformed and unknown keys alike', async () => {
    const invalid = { valid: false, code: 'invalid_api_key' };
    const unknown = keyMaterial('chatbot').key;
    plaintexts.push(unknown);
    await expect(bus.requestBare('authVerify', { key: chatbotKey.key.slice(0, -1) + '0', chatbotId: chatbot.id })).resolves.toEqual(
      invalid,
    );
    await expect(bus.requestBare('authVerify', { key: 'x', chatbotId: chatbot.id })).resolves.toEqual(invalid);
    await expect(bus.requestBare('authVerify', { key: unknown, chatbotId: chatbot.id })).resolves.toEqual(invalid);
  });

  it('suspends chatbot keys while the plan is free, and restores them on upgrade, within a second', async () => {
    await expect(bus.requestBare('authVerify', { key: chatbotKey.key, chatbotId: chatbot.id })).resolves.toMatchObject({ allowed: true });

    await bus.request('adminUpdateAccount', { accountId: account.id, plan: 'free' });
    const suspendedAfter = await within(1000, chatbotKey.key, chatbot.id, (reply) => !reply.valid || !reply.allowed);
    await expect(bus.requestBare('authVerify', { key: chatbotKey.key, chatbotId: chatbot.id })).resolves.toMatchObject({
      valid: true,
      allowed: false,
      code: 'plan_not_eligible',
    });
    await expect(bus.requestBare('authVerify', { key: userKey.key, chatbotId: chatbot.id })).resolves.toMatchObject({ allowed: true });

    await bus.request('adminUpdateAccount', { accountId: account.id, plan: 'entry' });
    const restoredAfter = await within(1000, chatbotKey.key, chatbot.id, (reply) => reply.valid && reply.allowed);
    expect(Math.max(suspendedAfter, restoredAfter)).toBeLessThan(1000);
  });

  it('refuses a revoked key within a second, although its record was cached', async () => {
    const doomed = await createChatbotKey(chatbot.id);
    const hash = hashApiKey(doomed.key);
    await expect(bus.requestBare('authVerify', { key: doomed.key, chatbotId: chatbot.id })).resolves.toMatchObject({ allowed: true });
    expect(await redis.get(`${env.redisPrefix}key:${hash}`)).toContain(doomed.id);

    await bus.request('revokeKey', { actor: { userId: owner.id }, chatbotId: chatbot.id, keyId: doomed.id });
    const refusedAfter = await within(1000, doomed.key, chatbot.id, (reply) => !reply.valid);

    expect(refusedAfter).toBeLessThan(1000);
    await expect(bus.requestBare('authVerify', { key: doomed.key, chatbotId: chatbot.id })).resolves.toEqual({
      valid: false,
      code: 'invalid_api_key',
    });
    expect(await redis.get(`${env.redisPrefix}key:${hash}`)).not.toContain(doomed.id);
  });

  it('accepts a key presented before it existed as soon as it is created', async () => {
    const material = keyMaterial('chatbot');
    plaintexts.push(material.key);
    await expect(bus.requestBare('authVerify', { key: material.key, chatbotId: chatbot.id })).resolves.toEqual({
      valid: false,
      code: 'invalid_api_key',
    });
    expect(await redis.exists(`${env.redisPrefix}key:${material.keyHash}`)).toBe(1);

    await bus.request('createKey', {
      actor: { userId: owner.id },
      chatbotId: chatbot.id,
      name: 'late',
      keyHash: material.keyHash,
      prefix: material.prefix,
    });

    expect(await within(1000, material.key, chatbot.id, (reply) => reply.valid)).toBeLessThan(1000);
  });

  it('refuses the keys of a deleted chatbot, and user-level keys on it, within a second', async () => {
    const doomedChatbot = await bus.request('adminCreateChatbot', chatbotPayload(account.id));
    const key = await createChatbotKey(doomedChatbot.id);
    await expect(bus.requestBare('authVerify', { key: key.key, chatbotId: doomedChatbot.id })).resolves.toMatchObject({ allowed: true });
    await expect(bus.requestBare('authVerify', { key: userKey.key, chatbotId: doomedChatbot.id })).resolves.toMatchObject({
      allowed: true,
    });

    await bus.request('adminDeleteChatbot', { chatbotId: doomedChatbot.id });

    expect(await within(1000, key.key, doomedChatbot.id, (reply) => !reply.valid)).toBeLessThan(1000);
    expect(await within(1000, userKey.key, doomedChatbot.id, (reply) => reply.valid && !reply.allowed)).toBeLessThan(1000);
    await expect(bus.requestBare('authVerify', { key: userKey.key, chatbotId: doomedChatbot.id })).resolves.toMatchObject({
      code: 'insufficient_scope',
    });
  });

  it('caches by hash only: no Redis key or value under its prefix holds a plaintext key', async () => {
    const keys = await redis.keys(`${env.redisPrefix}*`);
    expect(keys).toContain(`${env.redisPrefix}key:${hashApiKey(chatbotKey.key)}`);
    expect(keys).toContain(`${env.redisPrefix}key:${hashApiKey(userKey.key)}`);

    const stored: string[] = [];
    for (const key of keys) {
      // Plans are a hash (account id to plan); every other entry is a string.
      const value = (await redis.type(key)) === 'hash' ? JSON.stringify(await redis.hgetall(key)) : await redis.get(key);
      stored.push(key, value ?? '');
    }
    const dump = stored.join('\n');
    expect(plaintexts.length).toBeGreaterThan(5);
    for (const plaintext of plaintexts) {
      expect(dump).not.toContain(plaintext);
      // Not even the random part, as it would appear without its prefix or checksum.
      expect(dump).not.toContain(plaintext.slice(4, 36));
    }
    for (const key of keys.filter((name) => name.startsWith(`${env.redisPrefix}key:`))) {
      expect(key).toMatch(/:key:[0-9a-f]{64}$/);
    }
  });

  it('reports ready with NATS and Redis up, and counts verifications in /metrics', async () => {
    const base = await stack.verifier.getUrl();
    const ready = await fetch(`${base.replace('[::1]', '127.0.0.1')}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { nats: 'up', redis: 'up' } });
    const metrics = await (await fetch(`${base.replace('[::1]', '127.0.0.1')}/metrics`)).text();
    expect(metrics).toMatch(/auth_verifier_verifications_total\{outcome="allowed"\} [1-9]/);
    expect(metrics).toMatch(/auth_verifier_cache_reads_total\{entry="key",result="hit"\} [1-9]/);
    expect(metrics).toContain('auth_verifier_verify_duration_seconds_bucket');
  });

  it('fails closed when key-management cannot be reached and nothing is cached', async () => {
    const prefix = `${env.subjectPrefix}.alone`;
    const alone = await stack.startVerifier({
      NATS_SUBJECT_PREFIX: prefix,
      REDIS_KEY_PREFIX: `${env.redisPrefix}alone:`,
      LOOKUP_TIMEOUT_MS: '300',
    });
    const client = await NatsBus.connect({ url: env.natsUrl, subjectPrefix: prefix, name: 'auth-verifier-spec-alone', logger });
    try {
      await expect(client.requestBare('authVerify', { key: chatbotKey.key, chatbotId: chatbot.id })).resolves.toEqual({
        valid: false,
        code: 'auth_unavailable',
      });
      await expect(client.requestBare('authVerify', { key: 'malformed' })).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
    } finally {
      await client.close();
      await alone.close();
    }
  });

  it('keeps verifying through key-management while Redis is unreachable', async () => {
    // The only replica on the run's subjects from now on is one whose Redis is not there.
    await stack.restartVerifier({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });

    await expect(bus.requestBare('authVerify', { key: chatbotKey.key, chatbotId: chatbot.id })).resolves.toMatchObject({
      valid: true,
      allowed: true,
    });
    await expect(bus.requestBare('authVerify', { key: userKey.key, chatbotId: foreignChatbot.id })).resolves.toMatchObject({
      code: 'insufficient_scope',
    });
    const base = (await stack.verifier.getUrl()).replace('[::1]', '127.0.0.1');
    // Redis is an accelerator: the replica stays in rotation and reports itself degraded.
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'degraded', checks: { redis: 'down', nats: 'up' } });
  });

  /** Verifies until `done` holds; returns how long that took, failing past `limitMs`. */
  async function within(limitMs: number, key: string, chatbotId: string, done: (reply: VerifyReply) => boolean): Promise<number> {
    const started = Date.now();
    const verify = async () => (await bus.requestBare('authVerify', { key, chatbotId })) as VerifyReply;
    await eventually(verify, done, { timeoutMs: limitMs, intervalMs: 10, what: 'the verify reply' });
    return Date.now() - started;
  }
});
