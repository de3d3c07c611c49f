import { describe, expect, it } from '@jest/globals';
import type { VerifyReply } from '@app/contracts';
import { VerifyCache, cacheKeyFor } from './verify-cache.js';

const valid = (keyId: string, accountId = 'acc'): VerifyReply => ({
  valid: true,
  allowed: true,
  keyId,
  type: 'user',
  accountId,
  chatbotId: null,
  userId: 'u',
  rateLimit: null,
});
const invalid: VerifyReply = { valid: false, code: 'invalid_api_key' };
const hash = (n: number) => n.toString(16).padStart(64, '0');

describe('VerifyCache', () => {
  it('keeps unknown keys in a smaller store of their own, so a flood of them cannot evict valid keys', () => {
    const sut = new VerifyCache({ maxEntries: 20, ttlMs: 1000, negativeTtlMs: 1000 });
    for (let i = 0; i < 20; i++) sut.set(cacheKeyFor(hash(i), null), hash(i), valid(`k${i}`), 0);
    for (let i = 100; i < 1100; i++) sut.set(cacheKeyFor(hash(i), null), hash(i), invalid, 0);
    expect(sut.size).toBe(22);
    for (let i = 0; i < 20; i++) expect(sut.get(cacheKeyFor(hash(i), null), 1)).toEqual(valid(`k${i}`));
    expect(sut.get(cacheKeyFor(hash(1099), null), 1)).toEqual(invalid);
    expect(sut.get(cacheKeyFor(hash(100), null), 1)).toBeUndefined();
  });

  it('keeps refusals of a valid key outside its reach in a store of their own: one key on random chatbot ids evicts nothing', () => {
    const sut = new VerifyCache({ maxEntries: 20, ttlMs: 1000, negativeTtlMs: 1000 });
    for (let i = 0; i < 20; i++) sut.set(cacheKeyFor(hash(i), null), hash(i), valid(`k${i}`), 0);
    const refused = { ...valid('prober'), allowed: false, code: 'insufficient_scope' } as VerifyReply;
    for (let i = 0; i < 1000; i++) sut.set(cacheKeyFor(hash(999), `random-bot-${i}`), hash(999), refused, 0);
    expect(sut.sizes).toEqual({ positive: 20, negative: 0, refused: 2 });
    for (let i = 0; i < 20; i++) expect(sut.get(cacheKeyFor(hash(i), null), 1)).toEqual(valid(`k${i}`));
    expect(sut.get(cacheKeyFor(hash(999), 'random-bot-999'), 1)).toEqual(refused);
    // Still dropped with the key when it is revoked.
    sut.dropKeyId('prober');
    expect(sut.get(cacheKeyFor(hash(999), 'random-bot-999'), 1)).toBeUndefined();
    expect(sut.size).toBe(20);
  });

  it('evicts the least recently used entry first', () => {
    const sut = new VerifyCache({ maxEntries: 2, ttlMs: 1000, negativeTtlMs: 1000 });
    sut.set('a', hash(1), valid('k1'), 0);
    sut.set('b', hash(2), valid('k2'), 0);
    sut.get('a', 1);
    sut.set('c', hash(3), valid('k3'), 0);
    expect(sut.get('b', 1)).toBeUndefined();
    expect(sut.get('a', 1)).toBeDefined();
  });

  it('keeps every entry read for at least half a store of new entries', () => {
    const bound = 16;
    const sut = new VerifyCache({ maxEntries: bound, ttlMs: 60_000, negativeTtlMs: 60_000 });
    const readAt = new Map<string, number>();
    let inserted = 0;
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
    for (let step = 0; step < 500; step++) {
      const name = `k${inserted}`;
      sut.set(name, hash(inserted), valid(name), 0);
      inserted += 1;
      for (const [read, at] of readAt) {
        if (inserted - at < bound / 2) expect(sut.get(read, 1)).toBeDefined();
        else readAt.delete(read);
      }
      const pick = `k${Math.max(0, inserted - 1 - random(bound))}`;
      if (sut.get(pick, 1) !== undefined) readAt.set(pick, inserted);
    }
    expect(sut.size).toBe(bound);
  });

  it('never caches auth_unavailable', () => {
    const sut = new VerifyCache({ maxEntries: 2, ttlMs: 1000, negativeTtlMs: 1000 });
    sut.set('a', hash(1), { valid: false, code: 'auth_unavailable' }, 0);
    expect(sut.size).toBe(0);
  });

  it('drops by hash (every target chatbot), key id and account, and cleans its indexes', () => {
    const sut = new VerifyCache({ maxEntries: 10, ttlMs: 1000, negativeTtlMs: 1000 });
    sut.set(cacheKeyFor(hash(1), 'b1'), hash(1), valid('k1', 'acc1'), 0);
    sut.set(cacheKeyFor(hash(1), 'b2'), hash(1), valid('k1', 'acc1'), 0);
    sut.set(cacheKeyFor(hash(2), null), hash(2), valid('k2', 'acc2'), 0);
    sut.set(cacheKeyFor(hash(3), null), hash(3), valid('k3', 'acc2'), 0);
    sut.dropKeyId('k1');
    expect(sut.size).toBe(2);
    sut.dropAccount('acc2');
    expect(sut.size).toBe(0);
    sut.set(cacheKeyFor(hash(1), 'b1'), hash(1), valid('k1', 'acc1'), 0);
    sut.dropKeyHash(hash(1));
    expect(sut.size).toBe(0);
  });

  it('never keeps an entry past the end of its key (expiry or grace end), however long the TTL', () => {
    const sut = new VerifyCache({ maxEntries: 10, ttlMs: 30_000, negativeTtlMs: 1000 });
    sut.set('ends', hash(1), { ...valid('k1'), endsAtMs: 5_000 }, 1_000);
    sut.set('ended', hash(2), { ...valid('k2'), endsAtMs: 1_000 }, 1_000);
    expect(sut.get('ends', 4_999)).toMatchObject({ keyId: 'k1' });
    expect(sut.get('ends', 5_000)).toBeUndefined();
    expect(sut.get('ended', 1_000)).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('finds any live reply for a key hash, whatever target it was asked for', () => {
    const sut = new VerifyCache({ maxEntries: 10, ttlMs: 1000, negativeTtlMs: 100 });
    expect(sut.anyFor(hash(1), 0)).toBeUndefined();
    sut.set(cacheKeyFor(hash(1), 'bot-1'), hash(1), valid('k1'), 0);
    expect(sut.anyFor(hash(1), 999)).toEqual(valid('k1'));
    expect(sut.anyFor(hash(1), 1000)).toBeUndefined();
    sut.set(cacheKeyFor(hash(2), 'bot-9'), hash(2), invalid, 0);
    expect(sut.anyFor(hash(2), 50)).toEqual(invalid);
    sut.dropKeyHash(hash(2));
    expect(sut.anyFor(hash(2), 50)).toBeUndefined();
  });

  it('keeps its indexes exact as entries leave by eviction and expiry', () => {
    const sut = new VerifyCache({ maxEntries: 2, ttlMs: 1000, negativeTtlMs: 1000 });
    sut.set(cacheKeyFor(hash(1), 'b1'), hash(1), valid('k1', 'acc'), 0);
    sut.set(cacheKeyFor(hash(1), 'b2'), hash(1), valid('k1', 'acc'), 0);
    sut.set(cacheKeyFor(hash(2), null), hash(2), valid('k2', 'acc'), 0);
    // hash(1) on b1 was evicted: its key is still found through b2, until that expires.
    expect(sut.get(cacheKeyFor(hash(1), 'b1'), 1)).toBeUndefined();
    expect(sut.anyFor(hash(1), 999)).toEqual(valid('k1'));
    expect(sut.anyFor(hash(1), 1000)).toBeUndefined();
    // Nothing left of k1 in the indexes: a new entry under its account survives dropping the key id.
    sut.dropKeyId('k1');
    expect(sut.size).toBe(1);
    sut.dropAccount('acc');
    expect(sut.size).toBe(0);
    sut.set(cacheKeyFor(hash(3), null), hash(3), valid('k1', 'other'), 0);
    sut.dropAccount('acc');
    expect(sut.size).toBe(1);
  });
});
