import { describe, expect, it, jest } from '@jest/globals';
import { ExpiringMap } from './expiring-map.js';

describe('ExpiringMap', () => {
  it('forgets entries after their time to live', () => {
    let now = 0;
    const sut = new ExpiringMap<string, number>({ ttlMs: 100, maxEntries: 10, now: () => now });
    sut.set('a', 1);

    now = 99;
    expect(sut.get('a')).toBe(1);
    now = 100;
    expect(sut.get('a')).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('never holds more than its bound, evicting the least recently set entry', () => {
    const onEvict = jest.fn();
    const sut = new ExpiringMap<string, number>({ ttlMs: 1000, maxEntries: 2, onEvict });
    sut.set('a', 1);
    sut.set('b', 2);
    sut.set('a', 3);
    sut.set('c', 4);

    expect(sut.size).toBe(2);
    expect(sut.get('b')).toBeUndefined();
    expect(sut.get('a')).toBe(3);
    expect(onEvict).toHaveBeenCalledWith('b', 2);
  });

  it('drains its live entries and is empty afterwards', () => {
    let now = 0;
    const sut = new ExpiringMap<string, number>({ ttlMs: 10, maxEntries: 10, now: () => now });
    sut.set('old', 1);
    now = 5;
    sut.set('new', 2);
    now = 12;

    expect([...sut.drain()]).toEqual([['new', 2]]);
    expect(sut.size).toBe(0);
  });
});
