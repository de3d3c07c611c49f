import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { RecentChanges } from './recent-changes.js';
import { InvalidationService, type InvalidatedCache } from './invalidation.service.js';

const HASH = 'a'.repeat(64);

describe('InvalidationService', () => {
  let cache: { [K in keyof InvalidatedCache]: jest.Mock<InvalidatedCache[K]> };
  let changes: RecentChanges;
  let sut: InvalidationService;

  beforeEach(() => {
    cache = { forgetKeyRecord: jest.fn(), storePlanChange: jest.fn(), storeChatbotDeleted: jest.fn(), distrustAll: jest.fn() };
    changes = new RecentChanges({ rememberMs: 120_000, planOverrideMs: 60_000, maxEntries: 100 });
    sut = new InvalidationService(changes, cache);
  });

  it('remembers a revoked key and drops its cached record', () => {
    const startedAt = changes.current();

    sut.keyRevoked({ keyId: 'k1', keyHash: HASH, accountId: 'acc-1', chatbotId: 'bot-1' });

    expect(changes.isRevoked('k1')).toBe(true);
    expect(changes.changedSince('key', HASH, startedAt)).toBe(true);
    expect(cache.forgetKeyRecord).toHaveBeenCalledWith(HASH);
  });

  it('drops a negative entry cached for a newly created key', () => {
    sut.keyCreated({ keyId: 'k1', keyHash: HASH, accountId: 'acc-1' });

    expect(cache.forgetKeyRecord).toHaveBeenCalledWith(HASH);
    expect(changes.isRevoked('k1')).toBe(false);
  });

  it('drops the record of a key whose rate limit changed, and keeps a lookup in flight from caching the old one', () => {
    const before = changes.current();
    sut.keyUpdated({ keyId: 'k1', keyHash: HASH, accountId: 'acc-1', chatbotId: null });

    expect(cache.forgetKeyRecord).toHaveBeenCalledWith(HASH);
    expect(changes.changedSince('key', HASH, before)).toBe(true);
    expect(changes.isRevoked('k1')).toBe(false);
  });

  it('writes a new plan and overrides older answers with it', () => {
    sut.planChanged({ accountId: 'acc-1', plan: 'free' });

    expect(changes.planOverride('acc-1')).toBe('free');
    expect(cache.storePlanChange).toHaveBeenCalledWith('acc-1', 'free');
  });

  it('marks a deleted chatbot as gone in memory and in Redis', () => {
    sut.chatbotDeleted({ chatbotId: 'bot-1', accountId: 'acc-1' });

    expect(changes.isChatbotDeleted('bot-1')).toBe(true);
    expect(cache.storeChatbotDeleted).toHaveBeenCalledWith('bot-1');
  });

  it('after missed events, distrusts its memory and moves Redis to a new generation', () => {
    changes.planChanged('acc-1', 'entry');
    const startedAt = changes.current();

    sut.eventsMissed();

    expect(changes.planOverride('acc-1')).toBeUndefined();
    expect(changes.changedSince('key', HASH, startedAt)).toBe(true);
    expect(cache.distrustAll).toHaveBeenCalledTimes(1);
  });
});
