import { beforeEach, describe, expect, it } from '@jest/globals';
import { KEY_UPDATE_SETTLE_MS, RecentChanges } from './recent-changes.js';

describe('RecentChanges', () => {
  let now: number;
  let sut: RecentChanges;

  beforeEach(() => {
    now = 1_000_000;
    sut = new RecentChanges({ rememberMs: 120_000, planOverrideMs: 60_000, maxEntries: 3, now: () => now });
  });

  it('tells a lookup whether its entry changed after it started', () => {
    const startedAt = sut.current();
    expect(sut.changedSince('key', 'h1', startedAt)).toBe(false);

    sut.keyRevoked('k1', 'h1');

    expect(sut.changedSince('key', 'h1', startedAt)).toBe(true);
    expect(sut.changedSince('key', 'h2', startedAt)).toBe(false);
    expect(sut.changedSince('account', 'h1', startedAt)).toBe(false);
    expect(sut.changedSince('key', 'h1', sut.current())).toBe(false);
  });

  it('remembers revocations and deleted chatbots longer than a positive cache entry lives, then forgets them', () => {
    sut.keyRevoked('k1', 'h1');
    sut.chatbotDeleted('bot-1');

    now += 119_000;
    expect(sut.isRevoked('k1')).toBe(true);
    expect(sut.isChatbotDeleted('bot-1')).toBe(true);
    now += 2_000;
    expect(sut.isRevoked('k1')).toBe(false);
    expect(sut.isChatbotDeleted('bot-1')).toBe(false);
  });

  it('distrusts Redis for a key for KEY_UPDATE_SETTLE_MS after its update, and not after its creation or revocation', () => {
    sut.keyUpdated('h1');
    sut.keyCreated('h2');
    sut.keyRevoked('k3', 'h3');

    expect(sut.isKeyUnsettled('h1')).toBe(true);
    expect(sut.isKeyUnsettled('h2')).toBe(false);
    expect(sut.isKeyUnsettled('h3')).toBe(false);
    now += KEY_UPDATE_SETTLE_MS - 1;
    expect(sut.isKeyUnsettled('h1')).toBe(true);
    now += 1;
    expect(sut.isKeyUnsettled('h1')).toBe(false);
  });

  it('keeps a plan override for its window, the latest change winning', () => {
    sut.planChanged('acc-1', 'free');
    sut.planChanged('acc-1', 'entry');

    expect(sut.planOverride('acc-1')).toBe('entry');
    now += 60_001;
    expect(sut.planOverride('acc-1')).toBeUndefined();
  });

  it('stays bounded, and treats entries it evicted as changed for lookups started before', () => {
    const startedAt = sut.current();
    for (const hash of ['h1', 'h2', 'h3', 'h4', 'h5']) sut.keyCreated(hash);
    const later = sut.current();

    // h1 and h2 were evicted: unknown now, so assumed changed for any lookup older than the eviction.
    expect(sut.changedSince('key', 'h1', startedAt)).toBe(true);
    expect(sut.changedSince('key', 'never-seen', startedAt)).toBe(true);
    expect(sut.changedSince('key', 'never-seen', later)).toBe(false);
  });

  it('evicts the oldest revocations first when full', () => {
    for (const keyId of ['k1', 'k2', 'k3', 'k4']) sut.keyRevoked(keyId, `hash-${keyId}`);

    expect(sut.isRevoked('k1')).toBe(false);
    expect(sut.isRevoked('k4')).toBe(true);
  });

  it('after missed events, overtakes every lookup started before and forgets plan overrides, but keeps refusals', () => {
    sut.keyRevoked('k1', 'h1');
    sut.planChanged('acc-1', 'entry');
    const startedAt = sut.current();

    sut.distrustAll();

    expect(sut.changedSince('key', 'never-touched', startedAt)).toBe(true);
    expect(sut.changedSince('account', 'acc-1', startedAt)).toBe(true);
    expect(sut.changedSince('key', 'never-touched', sut.current())).toBe(false);
    expect(sut.planOverride('acc-1')).toBeUndefined();
    expect(sut.isRevoked('k1')).toBe(true);
  });
});
