import { describe, expect, it, jest } from '@jest/globals';
import { ExpiringMap, type RemovalReason } from './expiring-map.js';

describe('ExpiringMap', () => {
  it('forgets entries at the end of their time to live, not a millisecond later', () => {
    let now = 0;
    const sut = new ExpiringMap<string, number>({ ttlMs: 100, maxEntries: 10, now: () => now });
    sut.set('a', 1);

    now = 99;
    expect(sut.get('a')).toBe(1);
    now = 100;
    expect(sut.get('a')).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('takes the time from the caller when given, and an end per entry', () => {
    const sut = new ExpiringMap<string, number>({ ttlMs: 1_000, maxEntries: 10, now: () => 0 });
    sut.set('short', 1, 5_000, 5_001);
    sut.set('default', 2, 5_000);
    sut.set('over', 3, 5_000, 5_000);

    expect(sut.peek('short', 5_000)).toBe(1);
    expect(sut.peek('short', 5_001)).toBeUndefined();
    expect(sut.get('default', 5_999)).toBe(2);
    expect(sut.has('default', 6_000)).toBe(false);
    expect(sut.has('over', 5_000)).toBe(false);
    expect(sut.size).toBe(0);
  });

  it('with an infinite time to live, keeps entries until the bound pushes them out', () => {
    const sut = new ExpiringMap<string, number>({ ttlMs: Number.POSITIVE_INFINITY, maxEntries: 2 });
    sut.set('a', 1, 0);
    expect(sut.get('a', Number.MAX_SAFE_INTEGER)).toBe(1);
    sut.set('b', 2, 0);
    sut.set('c', 3, 0);
    expect(sut.get('b', 0)).toBe(2);
    expect(sut.get('a', 0)).toBeUndefined();
  });

  it('never holds more than its bound, evicting the least recently set entry', () => {
    const onRemove = jest.fn<(key: string, value: number, reason: RemovalReason) => void>();
    const sut = new ExpiringMap<string, number>({ ttlMs: 1000, maxEntries: 2, onRemove });
    sut.set('a', 1);
    sut.set('b', 2);
    sut.set('a', 3);
    sut.set('c', 4);

    expect(sut.size).toBe(2);
    expect(sut.get('b')).toBeUndefined();
    expect(sut.get('a')).toBe(3);
    expect(onRemove.mock.calls).toEqual([
      ['a', 1, 'replaced'],
      ['b', 2, 'evicted'],
    ]);
  });

  it('counts a get as a use and a peek as none', () => {
    const sut = new ExpiringMap<string, number>({ ttlMs: 1000, maxEntries: 2 });
    sut.set('a', 1, 0);
    sut.set('b', 2, 0);
    sut.get('a', 0);
    sut.set('c', 3, 0);
    expect([sut.peek('a', 0), sut.peek('b', 0)]).toEqual([1, undefined]);
    sut.peek('a', 0);
    sut.set('d', 4, 0);
    expect(sut.peek('a', 0)).toBeUndefined();
  });

  it('tells onRemove of every entry leaving: expired when read late, deleted, cleared', () => {
    const removed: [string, RemovalReason][] = [];
    const sut = new ExpiringMap<string, number>({
      ttlMs: 10,
      maxEntries: 10,
      onRemove: (key, _value, reason) => removed.push([key, reason]),
    });
    sut.set('late', 1, 0);
    sut.set('gone', 2, 0);
    sut.set('rest', 3, 0);
    expect(sut.peek('late', 10)).toBeUndefined();
    sut.delete('gone');
    sut.clear();
    expect(removed).toEqual([
      ['late', 'expired'],
      ['gone', 'deleted'],
      ['rest', 'deleted'],
    ]);
    expect(sut.size).toBe(0);
  });

  it('lets ended entries at the old end go as new ones arrive', () => {
    const removed: string[] = [];
    const sut = new ExpiringMap<string, number>({
      ttlMs: 10,
      maxEntries: 10,
      onRemove: (key, _value, reason) => removed.push(`${key} ${reason}`),
    });
    sut.set('a', 1, 0);
    sut.set('b', 2, 5);
    sut.set('c', 3, 10);
    expect(removed).toEqual(['a expired']);
    expect(sut.size).toBe(2);
  });

  it('drains its live entries, oldest first, and is empty afterwards', () => {
    let now = 0;
    const sut = new ExpiringMap<string, number>({ ttlMs: 10, maxEntries: 10, now: () => now });
    sut.set('old', 1);
    now = 5;
    sut.set('new', 2);
    sut.set('newer', 3);
    now = 12;

    expect([...sut.drain()]).toEqual([
      ['new', 2],
      ['newer', 3],
    ]);
    expect(sut.size).toBe(0);
  });

  it('refuses a bound or a lifetime it cannot keep', () => {
    expect(() => new ExpiringMap({ ttlMs: 10, maxEntries: 0 })).toThrow(RangeError);
    expect(() => new ExpiringMap({ ttlMs: 10, maxEntries: 1.5 })).toThrow(RangeError);
    expect(() => new ExpiringMap({ ttlMs: 0, maxEntries: 10 })).toThrow(RangeError);
    expect(() => new ExpiringMap({ ttlMs: Number.NaN, maxEntries: 10 })).toThrow(RangeError);
  });
});
