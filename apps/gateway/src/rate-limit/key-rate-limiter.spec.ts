import { describe, expect, it } from '@jest/globals';
import { DEFAULT_RATE_LIMITER_OPTIONS, KeyRateLimiter, type KeyRateLimiterOptions } from './key-rate-limiter.js';
import { MemoryRateLimitStore } from '../../test/rate-limit/memory-rate-limit-store.js';
import { simulateReplicas } from '../../test/rate-limit/replica-simulation.js';

const DAY_MS = 86_400_000;
/** A simulated "now" at the start of a day: every window length divides it. */
const T0 = DAY_MS * 20_000;

function setup(options: Partial<KeyRateLimiterOptions> = {}) {
  const clock = { now: T0 };
  const store = new MemoryRateLimitStore();
  const make = () => new KeyRateLimiter(store, { ...DEFAULT_RATE_LIMITER_OPTIONS, ...options }, () => clock.now);
  return { clock, store, sut: make(), make };
}

async function decide(sut: KeyRateLimiter, limit: { requests: number; windowSeconds: number }, keyId = 'key-1') {
  return sut.decide(keyId, limit) ?? sut.decideAfterLoad(keyId, limit);
}

describe('KeyRateLimiter on one replica', () => {
  const limit = { requests: 3, windowSeconds: 10 };

  it('admits the limit, then refuses until the window resets, with what the headers say', async () => {
    const { clock, sut } = setup();
    const first = await decide(sut, limit);
    expect(first).toEqual({ allowed: true, limit, remaining: 2, resetSeconds: 10 });
    clock.now += 2_500;
    expect(await decide(sut, limit)).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 8 });
    expect(await decide(sut, limit)).toMatchObject({ allowed: true, remaining: 0 });
    expect(await decide(sut, limit)).toMatchObject({ allowed: false, remaining: 0, resetSeconds: 8 });
    clock.now = T0 + 10_000;
    expect(await decide(sut, limit)).toMatchObject({ allowed: true, remaining: 2, resetSeconds: 10 });
  });

  it('asks the store only for the first request of a key; later decisions come from memory', async () => {
    const { sut } = setup();
    expect(sut.decide('key-1', limit)).toBeNull();
    await sut.decideAfterLoad('key-1', limit);
    expect(sut.decide('key-1', limit)).toMatchObject({ allowed: true });
  });

  it('applies a changed request count at once and starts a new count for a new window length', async () => {
    const { sut } = setup();
    for (let i = 0; i < 3; i++) await decide(sut, limit);
    expect(await decide(sut, limit)).toMatchObject({ allowed: false });
    expect(await decide(sut, { requests: 5, windowSeconds: 10 })).toMatchObject({ allowed: true, remaining: 1 });
    expect(await decide(sut, { requests: 3, windowSeconds: 60 })).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('keeps keys apart', async () => {
    const { sut } = setup();
    for (let i = 0; i < 3; i++) await decide(sut, limit, 'key-1');
    expect(await decide(sut, limit, 'key-1')).toMatchObject({ allowed: false });
    expect(await decide(sut, limit, 'key-2')).toMatchObject({ allowed: true });
  });
});

describe('KeyRateLimiter across replicas', () => {
  const limit = { requests: 100, windowSeconds: 60 };

  it('a replica started mid-window reads the count the others left: the window does not restart', async () => {
    const { clock, sut, make } = setup();
    for (let i = 0; i < 60; i++) await decide(sut, limit);
    await sut.sync();
    clock.now += 20_000;
    const restarted = make();
    let admitted = 0;
    for (let i = 0; i < 100; i++) if ((await decide(restarted, limit)).allowed) admitted++;
    expect(admitted).toBe(40);
  });

  it('pushes admissions made just before a window ended to that window, not to the next', async () => {
    const { clock, store, sut } = setup();
    const windowIndex = Math.floor(T0 / 60_000);
    for (let i = 0; i < 3; i++) await decide(sut, limit);
    await sut.sync();
    clock.now = T0 + 59_990;
    for (let i = 0; i < 2; i++) await decide(sut, limit);
    clock.now = T0 + 60_010;
    await decide(sut, limit);
    await sut.sync();
    expect(store.total(`key-1:60:${windowIndex}`)).toBe(5);
    expect(store.total(`key-1:60:${windowIndex + 1}`)).toBe(1);
  });

  it('a stopping replica pushes its last admissions', async () => {
    const { store, sut } = setup();
    for (let i = 0; i < 7; i++) await decide(sut, limit);
    await sut.stop();
    expect(store.total(`key-1:60:${Math.floor(T0 / 60_000)}`)).toBe(7);
  });

  it('with the store down each replica limits on its own, never refusing below the limit, and pushes its count once it is back', async () => {
    const { store, sut, make } = setup();
    const other = make();
    store.down = true;
    let admitted = 0;
    for (const replica of [sut, other]) {
      for (let i = 0; i < 100; i++) if ((await decide(replica, limit)).allowed) admitted++;
      await replica.sync();
    }
    expect(admitted).toBe(200);
    expect(sut.shared).toBe(false);
    store.down = false;
    await sut.sync();
    await other.sync();
    expect(sut.shared).toBe(true);
    expect(store.total(`key-1:60:${Math.floor(T0 / 60_000)}`)).toBe(200);
  });

  it("never counts a sync twice: a repeated or retried sync records the replica's count, not an increment", async () => {
    const { store, sut } = setup();
    for (let i = 0; i < 4; i++) await decide(sut, limit);
    await sut.sync();
    await sut.sync();
    await sut.sync();
    expect(store.total(`key-1:60:${Math.floor(T0 / 60_000)}`)).toBe(4);
  });

  it('drops counters of keys unused for a while (memory stays bounded)', async () => {
    const { clock, sut } = setup({ idleMs: 1_000 });
    await decide(sut, limit, 'key-1');
    await decide(sut, limit, 'key-2');
    await sut.sync();
    clock.now += 2_000;
    await decide(sut, limit, 'key-2');
    await sut.sync();
    expect(sut.size).toBe(1);
  });

  it('keeps at most maxKeys counters', async () => {
    const { sut } = setup({ maxKeys: 2 });
    for (const keyId of ['a', 'b', 'c']) await decide(sut, limit, keyId);
    expect(sut.size).toBe(2);
  });
});

/** Three replicas, load spread round-robin, syncing every 50 ms: the bounds the product promises. */
describe('KeyRateLimiter bounds (simulated clock, 3 replicas)', () => {
  const cases = [
    { name: '1 s window', limit: { requests: 200, windowSeconds: 1 }, durationMs: 10_000 },
    { name: '60 s window', limit: { requests: 600, windowSeconds: 60 }, durationMs: 180_000 },
  ];

  for (const { name, limit, durationMs } of cases) {
    const perSecond = limit.requests / limit.windowSeconds;

    it(`${name}: a client at 80 % of the limit is never refused`, async () => {
      const result = await simulateReplicas({ replicas: 3, limit, offeredPerSecond: perSecond * 0.8, durationMs });
      expect(result.refused).toBe(0);
    });

    it(`${name}: at 2x the limit no window forwards more than 110 %`, async () => {
      const result = await simulateReplicas({ replicas: 3, limit, offeredPerSecond: perSecond * 2, durationMs });
      expect(Math.max(...result.admittedPerWindow)).toBeLessThanOrEqual(limit.requests * 1.1);
      // And the limit is used, not starved: every full window forwards at least 95 % of it.
      expect(Math.min(...result.admittedPerWindow.slice(0, -1))).toBeGreaterThanOrEqual(limit.requests * 0.95);
    });
  }

  it('1 day window: from 99.9 % of the limit, 2x load across the replicas stops within 110 %', async () => {
    const limit = { requests: 1_000_000, windowSeconds: 86_400 };
    const result = await simulateReplicas({
      replicas: 3,
      limit,
      offeredPerSecond: (limit.requests / limit.windowSeconds) * 2,
      durationMs: 60_000,
      startMs: T0 + DAY_MS / 2,
      preloaded: 999_000,
    });
    const forwarded = 999_000 + result.admittedPerWindow[0];
    expect(forwarded).toBeGreaterThanOrEqual(limit.requests);
    expect(forwarded).toBeLessThanOrEqual(limit.requests * 1.1);
  });
});
