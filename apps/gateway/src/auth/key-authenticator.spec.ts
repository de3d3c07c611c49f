import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ApiError, BusUnavailableError, type KeyEventSubscriber, type MissedEventsReason } from '@app/common';
import { generateApiKey, hashApiKey, type EventMap, type VerifyReply } from '@app/contracts';
import type { GatewayConfig } from '../config.js';
import { KeyAuthenticator } from './key-authenticator.js';
import type { VerifyClient } from './verify-client.js';
import { RateLimitedError } from './rate-limited-error.js';
import { cacheHitDuration } from './auth-metrics.js';
import { SETTLE_MS } from './invalidation-log.js';

type Handlers = { [S in keyof EventMap]?: (event: EventMap[S]) => void };

const allowed = (over: Partial<VerifyReply> = {}): VerifyReply =>
  ({
    valid: true,
    allowed: true,
    keyId: 'key-1',
    type: 'chatbot',
    accountId: 'acc-1',
    chatbotId: 'bot-1',
    userId: null,
    rateLimit: null,
    ...over,
  }) as VerifyReply;

function setup(cache = { maxEntries: 100, ttlMs: 30_000, negativeTtlMs: 5_000 }) {
  const handlers: Handlers = {};
  let eventsMissed: (reason: MissedEventsReason) => void = () => undefined;
  const bus = {
    verify: jest.fn<(payload: { key: string; chatbotId?: string }, timeout?: number) => Promise<VerifyReply>>(),
    subscribe: jest.fn((given: Handlers, onMissed: (reason: MissedEventsReason) => void) => {
      Object.assign(handlers, given);
      eventsMissed = onMissed;
      return { unsubscribe: jest.fn() };
    }),
  };
  const config = { authCache: cache, verifyTimeoutMs: 50 } as GatewayConfig;
  const sut = new KeyAuthenticator(bus as unknown as KeyEventSubscriber, bus as unknown as VerifyClient, config);
  sut.onModuleInit();
  sut.onApplicationBootstrap();
  /** The next auth.verify waits for its reply: answer it with the function returned. */
  const holdVerify = (): ((reply: VerifyReply) => void) => {
    let answer!: (reply: VerifyReply) => void;
    bus.verify.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    return (reply: VerifyReply) => answer(reply);
  };
  return { sut, bus, handlers, holdVerify, missed: (reason: MissedEventsReason) => eventsMissed(reason) };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof ApiError ? error.code : String(error);
  }
}

describe('KeyAuthenticator', () => {
  let now: number;
  beforeEach(() => {
    now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('presentedKey', () => {
    const { sut } = setup();
    it('takes a Bearer token', () => expect(sut.presentedKey({ authorization: 'Bearer cbk_abc' })).toBe('cbk_abc'));
    it('accepts any case of the scheme', () => expect(sut.presentedKey({ authorization: 'bearer  k123' })).toBe('k123'));
    it('takes X-API-Key', () => expect(sut.presentedKey({ 'x-api-key': ' usk_x ' })).toBe('usk_x'));
    it('prefers Authorization over X-API-Key', () =>
      expect(sut.presentedKey({ authorization: 'Bearer one', 'x-api-key': 'two' })).toBe('one'));
    it('ignores a non-Bearer Authorization', () => expect(sut.presentedKey({ authorization: 'Basic dXNlcjpwdw==' })).toBeNull());
    it('is null when absent or empty', () => {
      expect(sut.presentedKey({})).toBeNull();
      expect(sut.presentedKey({ authorization: 'Bearer ', 'x-api-key': '  ' })).toBeNull();
    });
  });

  it('refuses a malformed key without asking the verifier', async () => {
    const { sut, bus } = setup();
    const key = generateApiKey('chatbot');
    const broken = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    expect(await codeOf(sut.authenticate(broken, 'bot-1', 'c'))).toBe('invalid_api_key');
    expect(await codeOf(sut.authenticate('cbk_short', 'bot-1', 'c'))).toBe('invalid_api_key');
    expect(await codeOf(sut.authenticate('has a space in it ok!', null, 'c'))).toBe('invalid_api_key');
    expect(bus.verify).not.toHaveBeenCalled();
  });

  it('asks auth.verify with the key and target, then answers from the cache until the TTL', async () => {
    const { sut, bus } = setup();
    const key = generateApiKey('chatbot');
    bus.verify.mockResolvedValue(allowed());
    await expect(sut.authenticate(key, 'bot-1', 'c')).resolves.toEqual({
      keyId: 'key-1',
      type: 'chatbot',
      accountId: 'acc-1',
      chatbotId: 'bot-1',
      userId: null,
      rateLimit: null,
    });
    expect(bus.verify).toHaveBeenCalledWith({ key, chatbotId: 'bot-1' }, 50);
    now += 29_999;
    await sut.authenticate(key, 'bot-1', 'c');
    expect(bus.verify).toHaveBeenCalledTimes(1);
    now += 2;
    await sut.authenticate(key, 'bot-1', 'c');
    expect(bus.verify).toHaveBeenCalledTimes(2);
  });

  it('answers the rate limit a key has now once keyUpdated announced a change', async () => {
    const { sut, bus, handlers } = setup();
    const key = generateApiKey('chatbot');
    bus.verify.mockResolvedValue(allowed());
    expect((await sut.authenticate(key, 'bot-1', 'c')).rateLimit).toBeNull();
    const rateLimit = { requests: 5, windowSeconds: 1 };
    bus.verify.mockResolvedValue(allowed({ rateLimit }));
    (handlers.keyUpdated as (e: unknown) => void)({ accountId: 'acc-1', keyId: 'key-1', keyHash: hashApiKey(key) });
    expect(sut.fromCache(key, 'bot-1', 'c')).toBeUndefined();
    expect((await sut.authenticate(key, 'bot-1', 'c')).rateLimit).toEqual(rateLimit);
  });

  it('times authentication from the cache: one sample per hit, none for a miss', async () => {
    const { sut, bus } = setup();
    const key = generateApiKey('chatbot');
    const samples = async () => (await cacheHitDuration.get()).values.find((value) => value.metricName?.endsWith('_count'))?.value ?? 0;
    const before = await samples();
    expect(sut.fromCache(key, 'bot-1', 'c')).toBeUndefined();
    bus.verify.mockResolvedValue(allowed());
    await sut.authenticate(key, 'bot-1', 'c');
    expect(await samples()).toBe(before);
    expect(sut.fromCache(key, 'bot-1', 'c')?.keyId).toBe('key-1');
    expect(sut.fromCache(key, 'bot-1', 'c')?.keyId).toBe('key-1');
    expect(await samples()).toBe(before + 2);
  });

  it('caches per target chatbot and omits chatbotId on account routes', async () => {
    const { sut, bus } = setup();
    const key = generateApiKey('user');
    bus.verify.mockResolvedValue(allowed({ type: 'user', userId: 'u1' }));
    await sut.authenticate(key, 'bot-1', 'c');
    const account = await sut.authenticate(key, null, 'c');
    expect(account.chatbotId).toBeNull();
    expect(bus.verify).toHaveBeenLastCalledWith({ key }, 50);
    expect(bus.verify).toHaveBeenCalledTimes(2);
  });

  it('maps refusals to their codes and caches invalid answers for the negative TTL only', async () => {
    const { sut, bus } = setup();
    const key = generateApiKey('chatbot');
    const rateLimit = { requests: 5, windowSeconds: 60 };
    bus.verify.mockResolvedValue({ ...allowed({ rateLimit }), allowed: false, code: 'insufficient_scope' } as VerifyReply);
    // A valid key's refusal names the key and its limit, which the answer still describes.
    await expect(sut.authenticate(key, 'other', 'c')).rejects.toMatchObject({
      code: 'insufficient_scope',
      key: { keyId: 'key-1', rateLimit },
    });
    expect(sut.cachedRateLimit(key)).toEqual({ keyId: 'key-1', rateLimit });
    expect(sut.cachedRateLimit(generateApiKey('chatbot'))).toBeUndefined();
    bus.verify.mockResolvedValue({ ...allowed(), allowed: false, code: 'plan_not_eligible' } as VerifyReply);
    expect(await codeOf(sut.authenticate(key, 'bot-1', 'c'))).toBe('plan_not_eligible');
    const unknown = generateApiKey('user');
    bus.verify.mockResolvedValue({ valid: false, code: 'invalid_api_key' });
    expect(await codeOf(sut.authenticate(unknown, null, 'c'))).toBe('invalid_api_key');
    expect(await codeOf(sut.authenticate(unknown, null, 'c'))).toBe('invalid_api_key');
    expect(bus.verify).toHaveBeenCalledTimes(3);
    now += 5_001;
    bus.verify.mockResolvedValue(allowed());
    await expect(sut.authenticate(unknown, null, 'c')).resolves.toMatchObject({ keyId: 'key-1', accountId: 'acc-1' });
  });

  it('coalesces concurrent misses into one auth.verify', async () => {
    const { sut, bus } = setup();
    const key = generateApiKey('chatbot');
    let answer!: (reply: VerifyReply) => void;
    bus.verify.mockReturnValue(new Promise((resolve) => (answer = resolve)));
    const pending = [1, 2, 3].map(() => sut.authenticate(key, 'bot-1', 'c'));
    answer(allowed());
    await Promise.all(pending);
    expect(bus.verify).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['keyUpdated', (key: string) => ({ keyId: 'key-1', keyHash: hashApiKey(key), accountId: 'acc-1', chatbotId: 'bot-1' })],
    ['missed events', null],
  ] as const)('does not join a verification sent before %s: the key is asked again', async (_change, eventFor) => {
    const { sut, bus, handlers, missed, holdVerify } = setup();
    const key = generateApiKey('chatbot');
    const answerOld = holdVerify();
    const before = sut.authenticate(key, 'bot-1', 'c');
    if (eventFor) handlers.keyUpdated!(eventFor(key));
    else missed('gap');
    const answerNew = holdVerify();
    const after = codeOf(sut.authenticate(key, 'bot-1', 'c'));
    answerOld(allowed());
    await expect(before).resolves.toMatchObject({ keyId: 'key-1' });
    // The first verification finishing does not forget the second: a third request joins it.
    const third = codeOf(sut.authenticate(key, 'bot-1', 'c'));
    answerNew({ valid: false, code: 'invalid_api_key' });

    expect(await after).toBe('invalid_api_key');
    expect(await third).toBe('invalid_api_key');
    expect(bus.verify).toHaveBeenCalledTimes(2);
  });

  it('fails closed with auth_unavailable when the bus or verifier cannot answer, and caches nothing', async () => {
    const { sut, bus } = setup();
    const key = generateApiKey('chatbot');
    bus.verify.mockRejectedValue(new BusUnavailableError('auth.verify', new Error('503')));
    expect(await codeOf(sut.authenticate(key, 'bot-1', 'c'))).toBe('auth_unavailable');
    bus.verify.mockResolvedValue({ valid: false, code: 'auth_unavailable' });
    expect(await codeOf(sut.authenticate(key, 'bot-1', 'c'))).toBe('auth_unavailable');
    bus.verify.mockResolvedValue({ nonsense: true } as unknown as VerifyReply);
    expect(await codeOf(sut.authenticate(key, 'bot-1', 'c'))).toBe('auth_unavailable');
    bus.verify.mockResolvedValue(allowed());
    await expect(sut.authenticate(key, 'bot-1', 'c')).resolves.toMatchObject({ keyId: 'key-1', accountId: 'acc-1' });
    expect(bus.verify).toHaveBeenCalledTimes(4);
  });

  it('drops the cached entries of a revoked key and refuses a stale reply that still says valid', async () => {
    const { sut, bus, handlers } = setup();
    const key = generateApiKey('chatbot');
    bus.verify.mockResolvedValue(allowed());
    await sut.authenticate(key, 'bot-1', 'c');
    handlers.keyRevoked!({ keyId: 'key-1', keyHash: hashApiKey(key), accountId: 'acc-1', chatbotId: 'bot-1' });
    // A verifier replica that has not seen the event yet still answers "valid".
    expect(await codeOf(sut.authenticate(key, 'bot-1', 'c'))).toBe('invalid_api_key');
    expect(bus.verify).toHaveBeenCalledTimes(2);
  });

  it.each(['reconnect', 'gap', 'slow_consumer'] as const)(
    'drops every cached answer when key events may have been missed (%s), and asks again',
    async (reason) => {
      const { sut, bus, missed } = setup();
      const [chatbotKey, userKey] = [generateApiKey('chatbot'), generateApiKey('user')];
      bus.verify.mockResolvedValueOnce(allowed()).mockResolvedValueOnce(allowed({ type: 'user', chatbotId: null }));
      await sut.authenticate(chatbotKey, 'bot-1', 'c');
      await sut.authenticate(userKey, null, 'c');
      expect(sut.fromCache(chatbotKey, 'bot-1', 'c')).toBeDefined();

      missed(reason);

      expect(sut.fromCache(chatbotKey, 'bot-1', 'c')).toBeUndefined();
      expect(sut.fromCache(userKey, null, 'c')).toBeUndefined();
      // The revocation this replica never heard of: the verifier now says so.
      bus.verify.mockResolvedValue({ valid: false, code: 'invalid_api_key' });
      expect(await codeOf(sut.authenticate(chatbotKey, 'bot-1', 'c'))).toBe('invalid_api_key');
      expect(bus.verify).toHaveBeenCalledTimes(3);
    },
  );

  it.each([
    ['a plan change', (h: Handlers) => h.planChanged!({ accountId: 'acc-1', plan: 'free' }), 'plan_not_eligible'],
    ['a chatbot deletion', (h: Handlers) => h.chatbotDeleted!({ accountId: 'acc-1', chatbotId: 'bot-1' }), 'insufficient_scope'],
    [
      'an assignments change',
      (h: Handlers) => h.assignmentsChanged!({ userId: 'u-1', accountId: 'acc-1', chatbotIds: [] }),
      'insufficient_scope',
    ],
  ] as const)('does not give a request arriving after %s the answer of a verification sent before it', async (_change, fire, code) => {
    const { sut, bus, handlers, holdVerify } = setup();
    const key = generateApiKey('chatbot');
    const answerOld = holdVerify();
    const before = sut.authenticate(key, 'bot-1', 'c');
    fire(handlers);
    bus.verify.mockResolvedValueOnce(allowed({ allowed: false, code }));
    const after = codeOf(sut.authenticate(key, 'bot-1', 'c'));
    answerOld(allowed());
    await before;
    expect(await after).toBe(code);
    expect(bus.verify).toHaveBeenCalledTimes(2);
  });

  it('lets a request join a verification in flight across a change about another account', async () => {
    const { sut, bus, handlers, holdVerify } = setup();
    const key = generateApiKey('chatbot');
    const answer = holdVerify();
    const first = sut.authenticate(key, 'bot-1', 'c');
    handlers.planChanged!({ accountId: 'acc-other', plan: 'free' });
    const second = sut.authenticate(key, 'bot-1', 'c');
    answer(allowed());
    await first;
    expect(await codeOf(second)).toBe('resolved');
    expect(bus.verify).toHaveBeenCalledTimes(1);
  });

  it('does not cache a reply to a request sent while the key was settling, even when it arrives after the window', async () => {
    const { sut, handlers, holdVerify } = setup();
    const key = generateApiKey('chatbot');
    handlers.keyUpdated!({ keyId: 'key-1', keyHash: hashApiKey(key), accountId: 'acc-1', chatbotId: 'bot-1' });
    now += SETTLE_MS - 1;
    const answer = holdVerify();
    const pending = sut.authenticate(key, 'bot-1', 'c');
    now += 2;
    answer(allowed());
    await pending;
    expect(sut.fromCache(key, 'bot-1', 'c')).toBeUndefined();
  });

  it('does not cache a reply to a verification sent before events were missed', async () => {
    const { sut, missed, holdVerify } = setup();
    const key = generateApiKey('chatbot');
    const answer = holdVerify();
    const pending = sut.authenticate(key, 'bot-1', 'c');
    missed('reconnect');
    answer(allowed());
    await pending;

    expect(sut.fromCache(key, 'bot-1', 'c')).toBeUndefined();
  });

  it('does not cache a reply to a request sent before an invalidation', async () => {
    const { sut, bus, handlers, holdVerify } = setup();
    const key = generateApiKey('user');
    const answer = holdVerify();
    const pending = sut.authenticate(key, null, 'c');
    handlers.planChanged!({ accountId: 'acc-1', plan: 'free' });
    answer(allowed({ chatbotId: null }));
    await pending;
    now += 10_000;
    bus.verify.mockResolvedValue({ ...allowed(), allowed: false, code: 'plan_not_eligible' } as VerifyReply);
    expect(await codeOf(sut.authenticate(key, null, 'c'))).toBe('plan_not_eligible');
  });

  it.each([
    ['keyUpdated', { accountId: 'acc-9', keyId: 'key-9', keyHash: 'KEY' }],
    ['keyRenamed', { accountId: 'acc-9', keyId: 'key-1' }],
    ['planChanged', { accountId: 'acc-1', plan: 'free' }],
    ['chatbotDeleted', { accountId: 'acc-9', chatbotId: 'bot-1' }],
  ] as const)('does not cache a reply to a request sent before %s named what it is about, even once settled', async (subject, event) => {
    const { sut, handlers, holdVerify } = setup();
    const key = generateApiKey('chatbot');
    const answer = holdVerify();
    const pending = sut.authenticate(key, 'bot-1', 'c');
    const named = 'keyHash' in event ? { ...event, keyHash: hashApiKey(key) } : event;
    (handlers[subject] as (e: unknown) => void)(named);
    now += SETTLE_MS;
    answer(allowed());
    await pending;

    expect(sut.fromCache(key, 'bot-1', 'c')).toBeUndefined();
  });

  it('caches a reply whose request raced changes about other keys, accounts and chatbots only', async () => {
    const { sut, bus, handlers, holdVerify } = setup();
    const key = generateApiKey('chatbot');
    const answer = holdVerify();
    const pending = sut.authenticate(key, 'bot-1', 'c');
    handlers.keyUpdated!({ keyId: 'key-9', keyHash: hashApiKey(generateApiKey('chatbot')), accountId: 'acc-9', chatbotId: 'bot-9' });
    handlers.keyRevoked!({ keyId: 'key-8', keyHash: hashApiKey(generateApiKey('chatbot')), accountId: 'acc-1', chatbotId: 'bot-1' });
    handlers.planChanged!({ accountId: 'acc-9', plan: 'free' });
    handlers.chatbotDeleted!({ accountId: 'acc-9', chatbotId: 'bot-9' });
    answer(allowed());
    await pending;

    expect(sut.fromCache(key, 'bot-1', 'c')).toMatchObject({ keyId: 'key-1' });
    expect(bus.verify).toHaveBeenCalledTimes(1);
  });

  it('does not cache replies about an account changed in the last moments (verifier replicas may lag)', async () => {
    const { sut, bus, handlers } = setup();
    const key = generateApiKey('chatbot');
    handlers.planChanged!({ accountId: 'acc-1', plan: 'entry' });
    bus.verify.mockResolvedValue(allowed());
    await sut.authenticate(key, 'bot-1', 'c');
    await sut.authenticate(key, 'bot-1', 'c');
    expect(bus.verify).toHaveBeenCalledTimes(2);
    now += SETTLE_MS + 50 + 1; // the settle window now covers the verify timeout (50 ms here)
    await sut.authenticate(key, 'bot-1', 'c');
    await sut.authenticate(key, 'bot-1', 'c');
    expect(bus.verify).toHaveBeenCalledTimes(3);
  });

  it.each([
    ['planChanged', { accountId: 'acc-1', plan: 'free' }],
    ['chatbotDeleted', { accountId: 'acc-1', chatbotId: 'bot-1' }],
    ['assignmentsChanged', { accountId: 'acc-1', userId: 'u', chatbotIds: [] }],
    ['keyRenamed', { accountId: 'acc-1', keyId: 'key-1' }],
    ['keyUpdated', { accountId: 'acc-1', keyId: 'key-1', keyHash: 'f'.repeat(64) }],
  ] as const)('%s drops the affected entries', async (subject, event) => {
    const { sut, bus, handlers } = setup();
    const key = generateApiKey('chatbot');
    bus.verify.mockResolvedValue(allowed());
    await sut.authenticate(key, 'bot-1', 'c');
    (handlers[subject] as (e: unknown) => void)(event);
    await sut.authenticate(key, 'bot-1', 'c');
    expect(bus.verify).toHaveBeenCalledTimes(2);
  });

  it('keyCreated forgets an "unknown key" answer for that hash', async () => {
    const { sut, bus, handlers } = setup();
    const key = 'legacy-key-imported-later-0001';
    bus.verify.mockResolvedValueOnce({ valid: false, code: 'invalid_api_key' });
    expect(await codeOf(sut.authenticate(key, null, 'c'))).toBe('invalid_api_key');
    handlers.keyCreated!({ keyId: 'key-9', keyHash: hashApiKey(key), accountId: 'acc-1' });
    bus.verify.mockResolvedValue(allowed({ keyId: 'key-9', type: 'user', chatbotId: null, userId: 'u' }));
    await expect(sut.authenticate(key, null, 'c')).resolves.toMatchObject({ keyId: 'key-9' });
  });

  describe('brute-force throttle', () => {
    it('throttles a client after 50 invalid keys in a minute, with Retry-After, and no one else', async () => {
      const { sut, bus } = setup();
      for (let i = 0; i < 50; i++) {
        now += 100;
        expect(await codeOf(sut.authenticate(`cbk_bad${i}`, 'bot-1', '10.0.0.1'))).toBe('invalid_api_key');
      }
      const refused = sut.authenticate('cbk_bad', 'bot-1', '10.0.0.1').catch((e: unknown) => e);
      const error = await refused;
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).status).toBe(429);
      // The first failure happened at +100 ms and leaves the window at +60.1 s; now is +5 s.
      expect((error as RateLimitedError).headers).toEqual({ 'Retry-After': '56' });
      bus.verify.mockResolvedValue(allowed());
      await expect(sut.authenticate(generateApiKey('chatbot'), 'bot-1', '10.0.0.2')).resolves.toMatchObject({
        keyId: 'key-1',
        accountId: 'acc-1',
      });
      now += 55_200;
      expect(await codeOf(sut.authenticate('cbk_bad', 'bot-1', '10.0.0.1'))).toBe('invalid_api_key');
    });

    it('counts an IPv6 client by its /64: rotating addresses inside it does not escape the brake', async () => {
      const { sut } = setup();
      for (let i = 0; i < 50; i++) {
        now += 100;
        expect(await codeOf(sut.authenticate(`cbk_bad${i}`, 'bot-1', `2001:db8:7:7:${i.toString(16)}::1`))).toBe('invalid_api_key');
      }
      expect(await codeOf(sut.authenticate('cbk_bad', 'bot-1', '2001:db8:7:7:ffff::2'))).toBe('rate_limited');
      expect(await codeOf(sut.authenticate('cbk_bad', 'bot-1', '2001:db8:7:8::1'))).toBe('invalid_api_key');
    });

    it('does not limit valid keys already verified from a throttled address', async () => {
      const { sut, bus } = setup();
      const key = generateApiKey('chatbot');
      bus.verify.mockResolvedValue(allowed());
      await sut.authenticate(key, 'bot-1', '10.0.0.1');
      for (let i = 0; i < 50; i++) await codeOf(sut.authenticate(`cbk_bad${i}`, 'bot-1', '10.0.0.1'));
      expect(await codeOf(sut.authenticate('cbk_bad', 'bot-1', '10.0.0.1'))).toBe('rate_limited');
      await expect(sut.authenticate(key, 'bot-1', '10.0.0.1')).resolves.toMatchObject({ keyId: 'key-1', accountId: 'acc-1' });
    });

    it('counts failures over a sliding minute, not forever', async () => {
      const { sut } = setup();
      for (let i = 0; i < 200; i++) {
        now += 1_300;
        expect(await codeOf(sut.authenticate(`cbk_bad${i}`, 'bot-1', '10.0.0.1'))).toBe('invalid_api_key');
      }
    });
  });

  describe("per-key brake on refusals outside the key's reach", () => {
    const outOfScope = () => allowed({ allowed: false, code: 'insufficient_scope' });

    it("after 50 in a minute, answers the key's uncached requests 429 without asking the verifier, from any address", async () => {
      const { sut, bus } = setup();
      const key = generateApiKey('chatbot');
      bus.verify.mockResolvedValue(allowed());
      await sut.authenticate(key, 'bot-1', '10.0.0.1');
      bus.verify.mockResolvedValue(outOfScope());
      for (let i = 0; i < 50; i++) {
        now += 100;
        expect(await codeOf(sut.authenticate(key, `random-${i}`, `10.0.1.${i}`))).toBe('insufficient_scope');
      }
      expect(bus.verify).toHaveBeenCalledTimes(51);
      const error = await sut.authenticate(key, 'random-50', '10.0.2.1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).headers).toEqual({ 'Retry-After': '56' });
      expect(bus.verify).toHaveBeenCalledTimes(51);
      // What the key may reach, already verified, still works; other keys and the addresses used are not braked.
      await expect(sut.authenticate(key, 'bot-1', '10.0.2.1')).resolves.toMatchObject({ chatbotId: 'bot-1' });
      bus.verify.mockResolvedValue(allowed());
      await expect(sut.authenticate(generateApiKey('chatbot'), 'bot-1', '10.0.1.1')).resolves.toMatchObject({
        keyId: 'key-1',
        accountId: 'acc-1',
      });
      now += 55_200;
      bus.verify.mockResolvedValue(outOfScope());
      expect(await codeOf(sut.authenticate(key, 'random-51', '10.0.2.1'))).toBe('insufficient_scope');
    });

    it('keeps the allowed answers cached however many chatbots one key is tried on', async () => {
      const { sut, bus } = setup({ maxEntries: 10, ttlMs: 30_000, negativeTtlMs: 5_000 });
      const keys = Array.from({ length: 10 }, () => generateApiKey('chatbot'));
      bus.verify.mockResolvedValue(allowed());
      for (const key of keys) await sut.authenticate(key, 'bot-1', 'c');
      bus.verify.mockResolvedValue(outOfScope());
      for (let i = 0; i < 40; i++) await codeOf(sut.authenticate(keys[0], `random-${i}`, `10.0.3.${i}`));
      for (const key of keys) expect(sut.fromCache(key, 'bot-1', 'c')).toMatchObject({ chatbotId: 'bot-1' });
    });

    it('counts verifications, not answers: the same refused chatbot again is answered from the cache, unbraked', async () => {
      const { sut, bus } = setup();
      const key = generateApiKey('chatbot');
      bus.verify.mockResolvedValue(outOfScope());
      for (let i = 0; i < 200; i++) expect(await codeOf(sut.authenticate(key, `other-${i % 5}`, 'c'))).toBe('insufficient_scope');
      expect(bus.verify).toHaveBeenCalledTimes(5);
    });

    it('counts distinct chatbots: the same wrong chatbot verified again and again (a short cache TTL) never brakes the key', async () => {
      const { sut, bus } = setup({ maxEntries: 100, ttlMs: 1, negativeTtlMs: 1 });
      const key = generateApiKey('chatbot');
      for (let i = 0; i < 120; i++) {
        now += 10;
        bus.verify.mockResolvedValueOnce(outOfScope());
        expect(await codeOf(sut.authenticate(key, 'other-bot', 'c'))).toBe('insufficient_scope');
        bus.verify.mockResolvedValueOnce(allowed());
        await expect(sut.authenticate(key, 'bot-1', 'c')).resolves.toMatchObject({ chatbotId: 'bot-1' });
      }
      expect(bus.verify).toHaveBeenCalledTimes(240);
    });

    it('does not count plan_not_eligible, which is no probing', async () => {
      const { sut, bus } = setup();
      const key = generateApiKey('chatbot');
      bus.verify.mockResolvedValue(allowed({ allowed: false, code: 'plan_not_eligible' }));
      for (let i = 0; i < 60; i++) expect(await codeOf(sut.authenticate(key, `bot-${i}`, 'c'))).toBe('plan_not_eligible');
    });
  });

  it('keeps the cache bounded', async () => {
    const { sut, bus } = setup({ maxEntries: 2, ttlMs: 30_000, negativeTtlMs: 5_000 });
    const keys = [generateApiKey('chatbot'), generateApiKey('chatbot'), generateApiKey('chatbot')];
    bus.verify.mockResolvedValue(allowed());
    for (const key of keys) await sut.authenticate(key, 'bot-1', 'c');
    await sut.authenticate(keys[2], 'bot-1', 'c');
    await sut.authenticate(keys[1], 'bot-1', 'c');
    expect(bus.verify).toHaveBeenCalledTimes(3);
    await sut.authenticate(keys[0], 'bot-1', 'c');
    expect(bus.verify).toHaveBeenCalledTimes(4);
  });

  describe("fromCache (the data plane's warm path)", () => {
    it('knows nothing before a verification, then answers what authenticate cached, refusals included', async () => {
      const { sut, bus } = setup();
      const key = generateApiKey('chatbot');
      expect(sut.fromCache(key, 'bot-1', 'c')).toBeUndefined();
      bus.verify.mockResolvedValue(allowed());
      await sut.authenticate(key, 'bot-1', 'c');
      expect(sut.fromCache(key, 'bot-1', 'c')).toEqual({
        keyId: 'key-1',
        type: 'chatbot',
        accountId: 'acc-1',
        chatbotId: 'bot-1',
        userId: null,
        rateLimit: null,
      });
      expect(sut.fromCache(key, 'bot-2', 'c')).toBeUndefined();

      bus.verify.mockResolvedValue(allowed({ allowed: false, code: 'insufficient_scope' }));
      await codeOf(sut.authenticate(key, 'bot-2', 'c'));
      expect(() => sut.fromCache(key, 'bot-2', 'c')).toThrow(expect.objectContaining({ code: 'insufficient_scope' }));
      expect(bus.verify).toHaveBeenCalledTimes(2);
    });

    it('stops answering for a key the moment its revocation event arrives', async () => {
      const { sut, bus, handlers } = setup();
      const key = generateApiKey('chatbot');
      bus.verify.mockResolvedValue(allowed());
      await sut.authenticate(key, 'bot-1', 'c');
      handlers.keyRevoked!({ keyId: 'key-1', keyHash: hashApiKey(key), accountId: 'acc-1', chatbotId: 'bot-1' });
      expect(sut.fromCache(key, 'bot-1', 'c')).toBeUndefined();
    });
  });

  it('reports the size of each in-memory structure', async () => {
    const { sut, bus } = setup();
    bus.verify.mockResolvedValueOnce(allowed()).mockResolvedValueOnce({ valid: false, code: 'invalid_api_key' });
    await sut.authenticate(generateApiKey('chatbot'), 'bot-1', 'c');
    await codeOf(sut.authenticate(generateApiKey('chatbot'), 'bot-1', '10.0.0.9'));
    expect(sut.memorySizes()).toEqual({
      verify_cache_valid: 1,
      verify_cache_invalid: 1,
      verify_cache_refused: 0,
      recent_changes: 0,
      settling_changes: 0,
      revoked_keys: 0,
      throttled_clients: 1,
      braked_keys: 0,
      verifications_in_flight: 0,
    });
  });

  describe('key lifecycle', () => {
    it('refuses a cached key from the instant it ends, without asking again', async () => {
      const { sut, bus } = setup();
      const key = generateApiKey('chatbot');
      bus.verify.mockResolvedValue(allowed({ expiresAt: new Date(now + 1_500).toISOString() }));
      expect(await codeOf(sut.authenticate(key, 'bot-1', 'c'))).toBe('resolved');
      now += 1_499;
      expect(sut.fromCache(key, 'bot-1', 'c')).toMatchObject({ keyId: 'key-1' });
      now += 1;
      expect(sut.fromCache(key, 'bot-1', 'c')).toBeUndefined();
      bus.verify.mockResolvedValue({ valid: false, code: 'invalid_api_key' });
      expect(await codeOf(sut.authenticate(key, 'bot-1', 'c'))).toBe('invalid_api_key');
    });

    it('judges the client address against the allow-list of the reply, per request, from one cached reply', async () => {
      const { sut, bus } = setup();
      const key = generateApiKey('user');
      bus.verify.mockResolvedValue(
        allowed({
          type: 'user',
          chatbotId: null,
          userId: 'u-1',
          allowed: false,
          code: 'ip_not_allowed',
          allowedIps: ['203.0.113.0/24', '2001:db8::/32'],
        } as never),
      );
      expect(await codeOf(sut.authenticate(key, null, '203.0.113.4'))).toBe('resolved');
      expect(await codeOf(sut.authenticate(key, null, '::ffff:203.0.113.5'))).toBe('resolved');
      expect(await codeOf(sut.authenticate(key, null, '2001:db8:1::1'))).toBe('resolved');
      expect(await codeOf(sut.authenticate(key, null, '198.51.100.1'))).toBe('ip_not_allowed');
      expect(await codeOf(sut.authenticate(key, null, '2001:db9::1'))).toBe('ip_not_allowed');
      expect(bus.verify).toHaveBeenCalledTimes(1);
      // The client address never crosses the bus.
      expect(bus.verify).toHaveBeenCalledWith({ key }, 50);
    });

    it('keeps a scope refusal ahead of the allow-list, and fails closed on an allow-list it cannot read', async () => {
      const { sut, bus } = setup();
      const key = generateApiKey('chatbot');
      bus.verify.mockResolvedValueOnce(allowed({ allowed: false, code: 'insufficient_scope', allowedIps: ['203.0.113.0/24'] } as never));
      expect(await codeOf(sut.authenticate(key, 'bot-2', '203.0.113.4'))).toBe('insufficient_scope');
      bus.verify.mockResolvedValueOnce(allowed({ allowedIps: ['not-an-address'] }));
      expect(await codeOf(sut.authenticate(key, 'bot-1', '203.0.113.4'))).toBe('auth_unavailable');
    });

    it('drops a cached key on keyUpdated (disable, enable, expiry, allow-list, roll)', async () => {
      const { sut, bus, handlers } = setup();
      const key = generateApiKey('chatbot');
      bus.verify.mockResolvedValue(allowed());
      await sut.authenticate(key, 'bot-1', 'c');
      handlers.keyUpdated!({ keyId: 'key-1', keyHash: hashApiKey(key), accountId: 'acc-1', chatbotId: 'bot-1' });
      expect(sut.fromCache(key, 'bot-1', 'c')).toBeUndefined();
      bus.verify.mockResolvedValue({ valid: false, code: 'invalid_api_key' });
      expect(await codeOf(sut.authenticate(key, 'bot-1', 'c'))).toBe('invalid_api_key');
    });
  });

  describe('checkCredential (before a body is read)', () => {
    it('passes a valid key whatever it reaches, from any cached reply for it, without asking again', async () => {
      const { sut, bus } = setup();
      const key = generateApiKey('chatbot');
      const rateLimit = { requests: 5, windowSeconds: 60 };
      bus.verify.mockResolvedValue(allowed({ allowed: false, code: 'insufficient_scope', rateLimit }));
      // The key's id and rate limit come back: the answers that follow describe its limit.
      await expect(sut.checkCredential(key, 'c')).resolves.toEqual({ keyId: 'key-1', rateLimit });
      expect(bus.verify).toHaveBeenCalledWith({ key }, 50);
      // Known now: answered without a promise, and a reply cached for another target counts too.
      expect(sut.checkCredential(key, 'c')).toEqual({ keyId: 'key-1', rateLimit });
      const other = generateApiKey('user');
      bus.verify.mockResolvedValue(allowed({ type: 'user', chatbotId: 'bot-2', keyId: 'key-2' }));
      await sut.authenticate(other, 'bot-2', 'c');
      expect(sut.checkCredential(other, 'c')).toEqual({ keyId: 'key-2', rateLimit: null });
      expect(bus.verify).toHaveBeenCalledTimes(2);
    });

    it('refuses an unknown, malformed or revoked key, and fails closed when the verifier cannot answer', async () => {
      const { sut, bus, handlers } = setup();
      const unknown = generateApiKey('chatbot');
      bus.verify.mockResolvedValueOnce({ valid: false, code: 'invalid_api_key' });
      expect(await codeOf(Promise.resolve(sut.checkCredential(unknown, 'c')))).toBe('invalid_api_key');
      expect(() => sut.checkCredential(unknown, 'c')).toThrow(ApiError);
      expect(await codeOf(Promise.resolve().then(() => sut.checkCredential('cbk_short', 'c')))).toBe('invalid_api_key');
      const down = generateApiKey('chatbot');
      bus.verify.mockRejectedValueOnce(new BusUnavailableError('auth.verify', new Error('down')));
      expect(await codeOf(Promise.resolve(sut.checkCredential(down, 'c')))).toBe('auth_unavailable');
      const revoked = generateApiKey('chatbot');
      bus.verify.mockResolvedValue(allowed({ keyId: 'key-9' }));
      await sut.checkCredential(revoked, 'c');
      handlers.keyRevoked!({ keyId: 'key-9', keyHash: hashApiKey(revoked), accountId: 'acc-1', chatbotId: 'bot-1' });
      bus.verify.mockResolvedValue({ valid: false, code: 'invalid_api_key' });
      expect(await codeOf(Promise.resolve().then(() => sut.checkCredential(revoked, 'c')))).toBe('invalid_api_key');
    });
  });
});
