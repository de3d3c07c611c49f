import { describe, expect, it, jest, beforeEach } from '@jest/globals';
import { Registry } from 'prom-client';
import { ApiError } from '@app/common';
import { generateApiKey, hashApiKey, type KeyRecord, type Plan } from '@app/contracts';
import { MISS, UNAVAILABLE, hit, type CacheRead } from '../cache/cache-read.js';
import { RecentChanges } from '../invalidation/recent-changes.js';
import { VerifyMetrics } from './verify.metrics.js';
import { VerifyService, type AuthCache, type KeyLookups } from './verify.service.js';

const ACCOUNT = 'acc-1';
const OTHER_ACCOUNT = 'acc-2';
const CHATBOT = '0b0b0b0b-0000-4000-8000-000000000001';
const OTHER_CHATBOT = '0b0b0b0b-0000-4000-8000-000000000002';
/** The cache shard the fake Redis says a verify's entries live in: lookup answers must go back there. */
const SHARD = 5;

const chatbotRecord: KeyRecord = {
  keyId: 'key-c',
  type: 'chatbot',
  accountId: ACCOUNT,
  chatbotId: CHATBOT,
  userId: null,
  endsAt: null,
  allowedIps: null,
  rateLimit: { requests: 100, windowSeconds: 60 },
};
const userRecord: KeyRecord = {
  keyId: 'key-u',
  type: 'user',
  accountId: ACCOUNT,
  chatbotId: null,
  userId: 'user-1',
  endsAt: null,
  allowedIps: null,
  rateLimit: null,
};

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** What the fake Redis holds: one entry per kind, the chatbot's by id. */
interface Stored {
  key: CacheRead<KeyRecord>;
  plan: CacheRead<Plan>;
  chatbot: (chatbotId: string) => CacheRead<string>;
}

describe('VerifyService', () => {
  let stored: Stored;
  let cache: { [K in keyof AuthCache]: jest.Mock<AuthCache[K]> };
  let registry: Registry;
  let keyManagement: { [K in keyof KeyLookups]: jest.Mock<KeyLookups[K]> };
  let changes: RecentChanges;
  let sut: VerifyService;
  const chatbotKey = generateApiKey('chatbot');
  const userKey = generateApiKey('user');
  const records = new Map<string, KeyRecord>([
    [hashApiKey(chatbotKey), chatbotRecord],
    [hashApiKey(userKey), userRecord],
  ]);
  let plan: Plan;

  beforeEach(() => {
    plan = 'standard';
    stored = { key: MISS, plan: MISS, chatbot: () => MISS };
    cache = {
      // Reads as the repository's script does: the plan only along with a chatbot key's record.
      readForVerify: jest.fn<AuthCache['readForVerify']>(async (_keyHash, chatbotId) => {
        const { key } = stored;
        const chatbot = (read: CacheRead<string>) => (chatbotId === null ? null : { id: chatbotId, read });
        if (key.state === 'unavailable') return { shard: SHARD, key, plan: null, chatbot: chatbot(UNAVAILABLE) };
        const record = key.state === 'hit' && key.value?.type === 'chatbot' ? key.value : null;
        return {
          shard: SHARD,
          key,
          plan: record && { id: record.accountId, read: stored.plan },
          chatbot: chatbotId === null ? null : chatbot(stored.chatbot(chatbotId)),
        };
      }),
      setKeyRecord: jest.fn(),
      getPlan: jest.fn<AuthCache['getPlan']>(async () => stored.plan),
      setPlan: jest.fn(),
      getChatbotOwner: jest.fn<AuthCache['getChatbotOwner']>(async (chatbotId) => stored.chatbot(chatbotId)),
      setChatbotOwner: jest.fn(),
    };
    keyManagement = {
      lookupKey: jest.fn<KeyLookups['lookupKey']>(async (hash) => records.get(hash) ?? null),
      lookupAccount: jest.fn<KeyLookups['lookupAccount']>(async (accountId) =>
        accountId === ACCOUNT ? { accountId, plan } : { accountId, plan: 'professional' },
      ),
      lookupChatbot: jest.fn<KeyLookups['lookupChatbot']>(async (chatbotId) =>
        chatbotId === CHATBOT
          ? { chatbotId, accountId: ACCOUNT }
          : chatbotId === OTHER_CHATBOT
            ? { chatbotId, accountId: OTHER_ACCOUNT }
            : null,
      ),
    };
    changes = new RecentChanges({ rememberMs: 120_000, planOverrideMs: 60_000, maxEntries: 1000 });
    registry = new Registry();
    sut = new VerifyService(cache, keyManagement, changes, new VerifyMetrics(registry));
  });

  /** `auth_verifier_cache_reads_total` as `entry:result` → count. */
  async function cacheReads(): Promise<Record<string, number>> {
    const { values } = await registry.getSingleMetric('auth_verifier_cache_reads_total')!.get();
    return Object.fromEntries(values.map(({ labels, value }) => [`${labels.entry}:${labels.result}`, value]));
  }

  describe('decision rules', () => {
    it('refuses a malformed key without any lookup', async () => {
      const broken = chatbotKey.slice(0, -1) + (chatbotKey.endsWith('A') ? 'B' : 'A');

      await expect(sut.verify({ key: broken, chatbotId: CHATBOT })).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
      await expect(sut.verify({ key: 'short' })).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
      expect(cache.readForVerify).not.toHaveBeenCalled();
      expect(keyManagement.lookupKey).not.toHaveBeenCalled();
    });

    it('refuses an unknown key and caches that answer by hash', async () => {
      const unknown = generateApiKey('chatbot');

      await expect(sut.verify({ key: unknown, chatbotId: CHATBOT })).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
      expect(keyManagement.lookupKey).toHaveBeenCalledWith(hashApiKey(unknown));
      expect(cache.setKeyRecord).toHaveBeenCalledWith(hashApiKey(unknown), null);
    });

    it('allows a chatbot key on its own chatbot and caches the record and the plan', async () => {
      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toEqual({
        valid: true,
        allowed: true,
        keyId: 'key-c',
        type: 'chatbot',
        accountId: ACCOUNT,
        chatbotId: CHATBOT,
        userId: null,
        rateLimit: { requests: 100, windowSeconds: 60 },
      });
      expect(cache.setKeyRecord).toHaveBeenCalledWith(hashApiKey(chatbotKey), chatbotRecord);
      expect(cache.setPlan).toHaveBeenCalledWith(ACCOUNT, 'standard', SHARD);
    });

    it('gives a chatbot key insufficient_scope on another chatbot and on account routes', async () => {
      await expect(sut.verify({ key: chatbotKey, chatbotId: OTHER_CHATBOT })).resolves.toMatchObject({
        valid: true,
        allowed: false,
        code: 'insufficient_scope',
        chatbotId: OTHER_CHATBOT,
      });
      await expect(sut.verify({ key: chatbotKey })).resolves.toMatchObject({
        valid: true,
        allowed: false,
        code: 'insufficient_scope',
        chatbotId: null,
      });
      expect(keyManagement.lookupAccount).not.toHaveBeenCalled();
    });

    it('gives a chatbot key plan_not_eligible while its account is on the free plan', async () => {
      plan = 'free';

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toMatchObject({
        valid: true,
        allowed: false,
        code: 'plan_not_eligible',
        keyId: 'key-c',
      });
    });

    it('allows a user-level key on account routes and on its own account’s chatbots', async () => {
      const expected = { valid: true, allowed: true, keyId: 'key-u', type: 'user', accountId: ACCOUNT, userId: 'user-1', rateLimit: null };

      await expect(sut.verify({ key: userKey })).resolves.toEqual({ ...expected, chatbotId: null });
      expect(keyManagement.lookupChatbot).not.toHaveBeenCalled();
      await expect(sut.verify({ key: userKey, chatbotId: CHATBOT })).resolves.toEqual({ ...expected, chatbotId: CHATBOT });
    });

    it('does not check the plan for a user-level key', async () => {
      plan = 'free';

      await expect(sut.verify({ key: userKey, chatbotId: CHATBOT })).resolves.toMatchObject({ allowed: true });
      expect(keyManagement.lookupAccount).not.toHaveBeenCalled();
    });

    it.each([
      ['another account’s chatbot', OTHER_CHATBOT],
      ['an unknown chatbot', '0b0b0b0b-0000-4000-8000-00000000ffff'],
      ['a chatbot id that is no uuid (never looked up)', 'bot-unknown'],
    ])('gives a user-level key insufficient_scope on %s', async (_case, chatbotId) => {
      await expect(sut.verify({ key: userKey, chatbotId })).resolves.toMatchObject({
        valid: true,
        allowed: false,
        code: 'insufficient_scope',
        chatbotId,
      });
    });

    it('neither reads, looks up nor caches a chatbot id that is no uuid, such as a pasted key', async () => {
      await sut.verify({ key: userKey, chatbotId: userKey });
      expect(cache.readForVerify).toHaveBeenCalledWith(hashApiKey(userKey), null);
      expect(cache.getChatbotOwner).not.toHaveBeenCalled();
      expect(keyManagement.lookupChatbot).not.toHaveBeenCalled();
      expect(cache.setChatbotOwner).not.toHaveBeenCalled();
    });

    it('refuses a key whose record has the other type than its prefix says', async () => {
      records.set(hashApiKey(userKey), { ...userRecord, type: 'chatbot', chatbotId: CHATBOT });
      try {
        await expect(sut.verify({ key: userKey, chatbotId: CHATBOT })).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
      } finally {
        records.set(hashApiKey(userKey), userRecord);
      }
    });

    it('accepts a legacy key of any shape when key-management knows its hash', async () => {
      const legacy = 'legacy-Key_0123456789-abcdef';
      records.set(hashApiKey(legacy), userRecord);

      await expect(sut.verify({ key: legacy })).resolves.toMatchObject({ valid: true, allowed: true, keyId: 'key-u' });
    });
  });

  describe('cache', () => {
    it('answers from cached entries, read in one go, without asking key-management', async () => {
      stored.key = hit(chatbotRecord);
      stored.plan = hit<Plan>('entry');
      stored.chatbot = () => hit(ACCOUNT);

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toMatchObject({ allowed: true });
      expect(keyManagement.lookupKey).not.toHaveBeenCalled();
      expect(keyManagement.lookupAccount).not.toHaveBeenCalled();
      expect(cache.readForVerify).toHaveBeenCalledTimes(1);
      expect(cache.readForVerify).toHaveBeenCalledWith(hashApiKey(chatbotKey), CHATBOT);
      expect(cache.getPlan).not.toHaveBeenCalled();
      expect(cache.getChatbotOwner).not.toHaveBeenCalled();
      await expect(cacheReads()).resolves.toEqual({ 'key:hit': 1, 'account:hit': 1 });
    });

    it('believes a cached negative answer', async () => {
      stored.key = hit<KeyRecord>(null);

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
      expect(keyManagement.lookupKey).not.toHaveBeenCalled();
    });

    it('falls back to key-management when Redis is unavailable, without asking Redis again', async () => {
      stored = { key: UNAVAILABLE, plan: UNAVAILABLE, chatbot: () => UNAVAILABLE };

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toMatchObject({ allowed: true });
      expect(keyManagement.lookupKey).toHaveBeenCalledTimes(1);
      expect(keyManagement.lookupAccount).toHaveBeenCalledTimes(1);
      expect(cache.getPlan).not.toHaveBeenCalled();
      expect(cache.getChatbotOwner).not.toHaveBeenCalled();
      await expect(cacheReads()).resolves.toEqual({ 'key:unavailable': 1, 'account:unavailable': 1 });
    });

    it('lets a user-level key reach a chatbot whose owner Redis is unavailable for, through key-management', async () => {
      stored = { key: UNAVAILABLE, plan: UNAVAILABLE, chatbot: () => UNAVAILABLE };

      await expect(sut.verify({ key: userKey, chatbotId: CHATBOT })).resolves.toMatchObject({ allowed: true });
      expect(keyManagement.lookupChatbot).toHaveBeenCalledWith(CHATBOT);
      expect(cache.getChatbotOwner).not.toHaveBeenCalled();
      await expect(cacheReads()).resolves.toEqual({ 'key:unavailable': 1, 'chatbot:unavailable': 1 });
    });

    it('fails (closed) when key-management cannot be asked and nothing is cached', async () => {
      keyManagement.lookupKey.mockRejectedValue(new ApiError('auth_unavailable', 'key-management could not be asked'));

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).rejects.toMatchObject({ code: 'auth_unavailable' });
      expect(cache.setKeyRecord).not.toHaveBeenCalled();
    });

    it('still answers from the cache while key-management is down', async () => {
      keyManagement.lookupKey.mockRejectedValue(new ApiError('auth_unavailable', 'down'));
      keyManagement.lookupAccount.mockRejectedValue(new ApiError('auth_unavailable', 'down'));
      stored.key = hit(chatbotRecord);
      stored.plan = hit<Plan>('standard');

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toMatchObject({ allowed: true });
    });
  });

  describe('one read for everything a verify needs', () => {
    it('asks key-management only for the plan when the key record was cached and the plan was not', async () => {
      stored.key = hit(chatbotRecord);

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toMatchObject({ allowed: true });
      expect(keyManagement.lookupKey).not.toHaveBeenCalled();
      expect(keyManagement.lookupAccount).toHaveBeenCalledWith(ACCOUNT);
      expect(cache.getPlan).not.toHaveBeenCalled();
      expect(cache.setPlan).toHaveBeenCalledWith(ACCOUNT, 'standard', SHARD);
      await expect(cacheReads()).resolves.toEqual({ 'key:hit': 1, 'account:miss': 1 });
    });

    it('reads the plan again, rather than use one read along for another account', async () => {
      plan = 'free';
      cache.readForVerify.mockResolvedValueOnce({
        shard: SHARD,
        key: MISS,
        plan: { id: OTHER_ACCOUNT, read: hit<Plan>('professional') },
        chatbot: { id: CHATBOT, read: MISS },
      });

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toMatchObject({
        allowed: false,
        code: 'plan_not_eligible',
      });
      expect(cache.getPlan).toHaveBeenCalledWith(ACCOUNT, SHARD);
      expect(keyManagement.lookupAccount).toHaveBeenCalledWith(ACCOUNT);
    });

    it('reads the plan on its own when the key record came from key-management', async () => {
      stored.plan = hit<Plan>('standard');

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toMatchObject({ allowed: true });
      expect(keyManagement.lookupKey).toHaveBeenCalledTimes(1);
      expect(cache.getPlan).toHaveBeenCalledWith(ACCOUNT, SHARD);
      expect(keyManagement.lookupAccount).not.toHaveBeenCalled();
      await expect(cacheReads()).resolves.toEqual({ 'key:miss': 1, 'account:hit': 1 });
    });

    it('reads the owner again, rather than use one read along for another chatbot', async () => {
      stored.key = hit(userRecord);
      stored.chatbot = (chatbotId) => (chatbotId === CHATBOT ? hit(ACCOUNT) : MISS);
      cache.readForVerify.mockResolvedValueOnce({
        shard: SHARD,
        key: stored.key,
        plan: null,
        chatbot: { id: OTHER_CHATBOT, read: hit(OTHER_ACCOUNT) },
      });

      await expect(sut.verify({ key: userKey, chatbotId: CHATBOT })).resolves.toMatchObject({ allowed: true });
      expect(cache.getChatbotOwner).toHaveBeenCalledWith(CHATBOT, SHARD);
      expect(keyManagement.lookupChatbot).not.toHaveBeenCalled();
      await expect(cacheReads()).resolves.toEqual({ 'key:hit': 1, 'chatbot:hit': 1 });
    });

    it('reads whether the chatbot is gone again, rather than use one read along for another chatbot', async () => {
      stored.key = hit(chatbotRecord);
      stored.plan = hit<Plan>('standard');
      stored.chatbot = (chatbotId) => (chatbotId === CHATBOT ? hit<string>(null) : MISS);
      cache.readForVerify.mockResolvedValueOnce({
        shard: SHARD,
        key: stored.key,
        plan: { id: ACCOUNT, read: stored.plan },
        chatbot: { id: OTHER_CHATBOT, read: hit(OTHER_ACCOUNT) },
      });

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
      expect(cache.getChatbotOwner).toHaveBeenCalledWith(CHATBOT, SHARD);
    });

    it('shares one plan lookup among concurrent verifies whose read missed it', async () => {
      stored.key = hit(chatbotRecord);
      const lookup = deferred<{ accountId: string; plan: Plan } | null>();
      keyManagement.lookupAccount.mockReturnValue(lookup.promise);

      const answers = Array.from({ length: 5 }, () => sut.verify({ key: chatbotKey, chatbotId: CHATBOT }));
      await new Promise((resolve) => setImmediate(resolve));
      lookup.resolve({ accountId: ACCOUNT, plan: 'standard' });

      for (const answer of await Promise.all(answers)) expect(answer).toMatchObject({ allowed: true });
      expect(keyManagement.lookupAccount).toHaveBeenCalledTimes(1);
    });

    it('writes a plan lookup shared by verifies of keys in two cache shards back to both shards', async () => {
      stored.key = hit(chatbotRecord);
      const inOtherShard = generateApiKey('chatbot');
      const read = cache.readForVerify.getMockImplementation()!;
      cache.readForVerify.mockImplementation(async (keyHash, chatbotId) => ({
        ...(await read(keyHash, chatbotId)),
        shard: keyHash === hashApiKey(inOtherShard) ? SHARD + 1 : SHARD,
      }));
      const lookup = deferred<{ accountId: string; plan: Plan } | null>();
      keyManagement.lookupAccount.mockReturnValue(lookup.promise);

      const answers = [chatbotKey, inOtherShard, chatbotKey].map((key) => sut.verify({ key, chatbotId: CHATBOT }));
      await new Promise((resolve) => setImmediate(resolve));
      lookup.resolve({ accountId: ACCOUNT, plan: 'standard' });

      for (const answer of await Promise.all(answers)) expect(answer).toMatchObject({ allowed: true });
      expect(keyManagement.lookupAccount).toHaveBeenCalledTimes(1);
      expect(cache.setPlan.mock.calls.sort()).toEqual([
        [ACCOUNT, 'standard', SHARD],
        [ACCOUNT, 'standard', SHARD + 1],
      ]);
    });

    it('neither believes nor caches a plan looked up after its read missed, when a plan change overtook it', async () => {
      stored.key = hit(chatbotRecord);
      const stalePlan = deferred<{ accountId: string; plan: Plan } | null>();
      keyManagement.lookupAccount.mockReturnValueOnce(stalePlan.promise);

      const answer = sut.verify({ key: chatbotKey, chatbotId: CHATBOT });
      await new Promise((resolve) => setImmediate(resolve));
      expect(keyManagement.lookupAccount).toHaveBeenCalled();
      changes.planChanged(ACCOUNT, 'free');
      stalePlan.resolve({ accountId: ACCOUNT, plan: 'standard' });

      await expect(answer).resolves.toMatchObject({ allowed: false, code: 'plan_not_eligible' });
      expect(cache.setPlan).not.toHaveBeenCalled();
    });

    it('lets a user-level key reach its chatbot from the owner read along with its record', async () => {
      stored.key = hit(userRecord);
      stored.chatbot = (chatbotId) => (chatbotId === CHATBOT ? hit(ACCOUNT) : MISS);

      await expect(sut.verify({ key: userKey, chatbotId: CHATBOT })).resolves.toMatchObject({ allowed: true });
      expect(cache.readForVerify).toHaveBeenCalledWith(hashApiKey(userKey), CHATBOT);
      expect(cache.getChatbotOwner).not.toHaveBeenCalled();
      expect(keyManagement.lookupChatbot).not.toHaveBeenCalled();
      await expect(cacheReads()).resolves.toEqual({ 'key:hit': 1, 'chatbot:hit': 1 });
    });

    it('asks key-management only for the owner when the user-level key record was cached and the owner was not', async () => {
      stored.key = hit(userRecord);

      await expect(sut.verify({ key: userKey, chatbotId: OTHER_CHATBOT })).resolves.toMatchObject({
        allowed: false,
        code: 'insufficient_scope',
      });
      expect(keyManagement.lookupKey).not.toHaveBeenCalled();
      expect(keyManagement.lookupChatbot).toHaveBeenCalledWith(OTHER_CHATBOT);
      expect(cache.getChatbotOwner).not.toHaveBeenCalled();
      expect(cache.setChatbotOwner).toHaveBeenCalledWith(OTHER_CHATBOT, OTHER_ACCOUNT, SHARD);
    });
  });

  describe('coalescing', () => {
    it('shares one key-management lookup among concurrent misses for the same key', async () => {
      const lookup = deferred<KeyRecord | null>();
      keyManagement.lookupKey.mockReturnValue(lookup.promise);

      const answers = Array.from({ length: 5 }, () => sut.verify({ key: chatbotKey, chatbotId: CHATBOT }));
      await new Promise((resolve) => setImmediate(resolve));
      lookup.resolve(chatbotRecord);

      for (const answer of await Promise.all(answers)) expect(answer).toMatchObject({ allowed: true });
      expect(keyManagement.lookupKey).toHaveBeenCalledTimes(1);
      expect(keyManagement.lookupAccount).toHaveBeenCalledTimes(1);
    });

    it('does not share lookups between different keys', async () => {
      await Promise.all([sut.verify({ key: chatbotKey, chatbotId: CHATBOT }), sut.verify({ key: userKey })]);

      expect(keyManagement.lookupKey).toHaveBeenCalledTimes(2);
    });

    it('asks again after a shared lookup failed', async () => {
      keyManagement.lookupKey.mockRejectedValueOnce(new ApiError('auth_unavailable', 'down'));

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).rejects.toBeInstanceOf(ApiError);
      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toMatchObject({ allowed: true });
      expect(keyManagement.lookupKey).toHaveBeenCalledTimes(2);
    });
  });

  describe('races with change events', () => {
    it('refuses, and does not cache, a record read just before its key was revoked', async () => {
      const lookup = deferred<KeyRecord | null>();
      keyManagement.lookupKey.mockReturnValueOnce(lookup.promise);

      const answer = sut.verify({ key: chatbotKey, chatbotId: CHATBOT });
      await new Promise((resolve) => setImmediate(resolve));
      changes.keyRevoked('key-c', hashApiKey(chatbotKey));
      lookup.resolve(chatbotRecord);

      await expect(answer).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
      expect(cache.setKeyRecord).not.toHaveBeenCalled();
    });

    it('refuses a revoked key whose record another replica still cached', async () => {
      changes.keyRevoked('key-c', hashApiKey(chatbotKey));
      stored.key = hit(chatbotRecord);
      stored.plan = hit<Plan>('standard');

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
    });

    it('does not join a lookup that a key creation overtook, nor cache its negative answer', async () => {
      const stale = deferred<KeyRecord | null>();
      keyManagement.lookupKey.mockReturnValueOnce(stale.promise);

      const before = sut.verify({ key: userKey });
      await new Promise((resolve) => setImmediate(resolve));
      changes.keyCreated(hashApiKey(userKey));
      const after = sut.verify({ key: userKey });
      stale.resolve(null);

      await expect(before).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
      await expect(after).resolves.toMatchObject({ valid: true, allowed: true });
      expect(keyManagement.lookupKey).toHaveBeenCalledTimes(2);
      expect(cache.setKeyRecord).not.toHaveBeenCalledWith(hashApiKey(userKey), null);
      expect(cache.setKeyRecord).toHaveBeenCalledWith(hashApiKey(userKey), userRecord);
    });

    it('applies a plan change over a lookup that read the old plan', async () => {
      const stalePlan = deferred<{ accountId: string; plan: Plan } | null>();
      keyManagement.lookupAccount.mockReturnValueOnce(stalePlan.promise);

      const answer = sut.verify({ key: chatbotKey, chatbotId: CHATBOT });
      // Event-loop turns, not a clock: the lookup starts once the key has been read.
      for (let turn = 0; turn < 100 && keyManagement.lookupAccount.mock.calls.length === 0; turn++) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(keyManagement.lookupAccount).toHaveBeenCalled();
      changes.planChanged(ACCOUNT, 'free');
      stalePlan.resolve({ accountId: ACCOUNT, plan: 'standard' });

      await expect(answer).resolves.toMatchObject({ allowed: false, code: 'plan_not_eligible' });
      expect(cache.setPlan).not.toHaveBeenCalled();
    });

    it('prefers a plan change it has seen to what Redis still says', async () => {
      stored.key = hit(chatbotRecord);
      stored.plan = hit<Plan>('free');
      changes.planChanged(ACCOUNT, 'professional');

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toMatchObject({ allowed: true });
    });

    it('refuses a cached chatbot key once its chatbot was deleted', async () => {
      stored.key = hit(chatbotRecord);
      changes.chatbotDeleted(CHATBOT);

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
    });

    it('refuses a cached chatbot key when Redis marks its chatbot as gone', async () => {
      stored.key = hit(chatbotRecord);
      stored.plan = hit<Plan>('standard');
      stored.chatbot = (chatbotId) => (chatbotId === CHATBOT ? hit<string>(null) : MISS);

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
      expect(cache.readForVerify).toHaveBeenCalledTimes(1);
      expect(cache.getChatbotOwner).not.toHaveBeenCalled();
    });

    it('refuses a chatbot key whose record came from key-management when Redis marks its chatbot as gone', async () => {
      stored.chatbot = (chatbotId) => (chatbotId === CHATBOT ? hit<string>(null) : MISS);

      await expect(sut.verify({ key: chatbotKey, chatbotId: CHATBOT })).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
      expect(keyManagement.lookupKey).toHaveBeenCalledTimes(1);
      expect(cache.getChatbotOwner).not.toHaveBeenCalled();
    });

    it('gives a user-level key insufficient_scope on a chatbot deleted while its owner was cached', async () => {
      stored.key = hit(userRecord);
      stored.chatbot = () => hit(ACCOUNT);
      changes.chatbotDeleted(CHATBOT);

      await expect(sut.verify({ key: userKey, chatbotId: CHATBOT })).resolves.toMatchObject({ allowed: false, code: 'insufficient_scope' });
    });

    it('reads an upper-case chatbot id as the same chatbot: judged, cached and tombstoned lower-case', async () => {
      stored.key = hit(userRecord);
      stored.chatbot = () => hit(ACCOUNT);

      await expect(sut.verify({ key: userKey, chatbotId: CHATBOT.toUpperCase() })).resolves.toMatchObject({
        allowed: true,
        chatbotId: CHATBOT,
      });
      expect(cache.readForVerify).toHaveBeenLastCalledWith(hashApiKey(userKey), CHATBOT);
      changes.chatbotDeleted(CHATBOT);
      await expect(sut.verify({ key: userKey, chatbotId: CHATBOT.toUpperCase() })).resolves.toMatchObject({
        allowed: false,
        code: 'insufficient_scope',
      });
    });
  });
  describe('key lifecycle: end, allow-list, updates', () => {
    const hash = hashApiKey(userKey);

    it('refuses a cached record from the instant the key ends, and tells the caller when that is', async () => {
      const endsAt = Date.now() + 5_000;
      stored.key = hit({ ...userRecord, endsAt });
      await expect(sut.verify({ key: userKey })).resolves.toMatchObject({
        valid: true,
        allowed: true,
        expiresAt: new Date(endsAt).toISOString(),
      });
      const later = new VerifyService(cache, keyManagement, changes, new VerifyMetrics(new Registry()), () => endsAt);
      await expect(later.verify({ key: userKey })).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
    });

    it('answers an allow-listed key by the ip it is given, and ip_not_allowed without one (fail closed)', async () => {
      stored.key = hit({ ...userRecord, allowedIps: ['203.0.113.0/24', '2001:db8::/32'] });
      const allowedIps = ['203.0.113.0/24', '2001:db8::/32'];
      await expect(sut.verify({ key: userKey, ip: '203.0.113.9' })).resolves.toMatchObject({ valid: true, allowed: true, allowedIps });
      await expect(sut.verify({ key: userKey, ip: '2001:db8::7' })).resolves.toMatchObject({ allowed: true });
      await expect(sut.verify({ key: userKey, ip: '198.51.100.1' })).resolves.toMatchObject({
        allowed: false,
        code: 'ip_not_allowed',
        allowedIps,
      });
      await expect(sut.verify({ key: userKey, ip: 'garbage' })).resolves.toMatchObject({ allowed: false, code: 'ip_not_allowed' });
      await expect(sut.verify({ key: userKey })).resolves.toMatchObject({
        allowed: false,
        code: 'ip_not_allowed',
        allowedIps,
        keyId: 'key-u',
      });
    });

    it('answers a scope refusal before the allow-list: ip_not_allowed means only the address is wrong', async () => {
      stored.key = hit({ ...chatbotRecord, allowedIps: ['203.0.113.0/24'] });
      await expect(sut.verify({ key: chatbotKey, chatbotId: OTHER_CHATBOT, ip: '203.0.113.1' })).resolves.toMatchObject({
        allowed: false,
        code: 'insufficient_scope',
      });
    });

    it('asks key-management, not Redis, for a key just updated: another replica may have written the old record back', async () => {
      stored.key = hit(userRecord);
      changes.keyUpdated(hash);
      keyManagement.lookupKey.mockResolvedValueOnce(null);
      await expect(sut.verify({ key: userKey })).resolves.toEqual({ valid: false, code: 'invalid_api_key' });
      expect(keyManagement.lookupKey).toHaveBeenCalledWith(hash);
    });
  });
});
