import { randomBytes } from 'node:crypto';
import type { RateLimit } from '@app/contracts';
import type { CountUpdate, RateLimitStore } from './rate-limit-store.js';
import { WindowCounter, type RateLimitDecision } from './window-counter.js';

export interface KeyRateLimiterOptions {
  /** How often counts are pushed to and pulled from the store. */
  syncIntervalMs: number;
  /** Counters kept at once (the memory bound); past it the least recently made one is dropped. */
  maxKeys: number;
  /** A counter unused this long is dropped; its next request reads the store again. */
  idleMs: number;
  /** How long a read of an unknown key's count may hold its first request. */
  loadTimeoutMs: number;
  /**
   * Predict the other replicas' admissions since the last sync from their recent rate. Off,
   * each replica only knows the last synced total (the plain Tyk/Unkey-style scheme); kept as
   * an option so that the simulation spec and the bench can compare the two.
   */
  predictOthers: boolean;
}

export const DEFAULT_RATE_LIMITER_OPTIONS: KeyRateLimiterOptions = {
  syncIntervalMs: 50,
  maxKeys: 100_000,
  idleMs: 10_000,
  loadTimeoutMs: 100,
  predictOthers: true,
};

/** A count is kept this long past its window's end: replicas that sync late still find it. */
const KEEP_AFTER_WINDOW_MS = 60_000;

/**
 * Per-key rate limits across gateway replicas, decided in memory: a request never waits on
 * the network, except the first one for a key this replica has not counted recently (one read
 * of the key's count, so that a restarted replica does not start the window again from zero).
 * Every `syncIntervalMs` one pipelined round trip adds each counter's new admissions to the
 * shared count and reads the other replicas' back. See docs/rate-limits.md for the error bound.
 */
export class KeyRateLimiter {
  private readonly counters = new Map<string, WindowCounter>();
  private readonly loading = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  /** This process's name in the shared counts: a restarted replica is a new one, its predecessor's count stays. */
  private readonly replica = randomBytes(8).toString('hex');
  private syncing = false;
  private storeUp = true;

  constructor(
    private readonly store: RateLimitStore,
    private readonly options: KeyRateLimiterOptions = DEFAULT_RATE_LIMITER_OPTIONS,
    private readonly now: () => number = Date.now,
    private readonly onStoreChange: (up: boolean) => void = () => undefined,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.sync(), this.options.syncIntervalMs);
    this.timer.unref();
  }

  /** Pushes what is pending one last time (a replica that stops keeps its admissions counted). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    while (this.syncing) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.sync();
  }

  get size(): number {
    return this.counters.size;
  }

  /** Whether the last sync reached the store; false means every replica limits on its own. */
  get shared(): boolean {
    return this.storeUp;
  }

  /** The decision from memory, or null when this key's count must be read first (`load`). */
  decide(keyId: string, limit: RateLimit): RateLimitDecision | null {
    const counter = this.counters.get(keyId);
    if (counter === undefined || !counter.loaded || counter.windowSeconds !== limit.windowSeconds) return null;
    counter.requests = limit.requests;
    return counter.decide(this.now(), this.options.predictOthers ? this.options.syncIntervalMs * 2 : 0);
  }

  /** Reads the key's current count (once, however many requests wait on it), then decides. */
  async decideAfterLoad(keyId: string, limit: RateLimit): Promise<RateLimitDecision> {
    for (;;) {
      const decision = this.decide(keyId, limit);
      if (decision) return decision;
      await this.load(keyId, limit);
    }
  }

  private load(keyId: string, limit: RateLimit): Promise<void> {
    const running = this.loading.get(keyId);
    if (running) return running;
    const counter = this.counterFor(keyId, limit);
    const window = counter.windowOf(this.now());
    const read = withTimeout(this.store.read(keyId, limit.windowSeconds, window, this.replica), this.options.loadTimeoutMs).then(
      (count) => counter.loadedCount(window, count.total, count.own, this.now()),
      // Unreadable: this replica counts from what it knows, never refusing because of it.
      () => counter.loadedCount(window, counter.own, counter.own, this.now()),
    );
    const done = read.finally(() => this.loading.delete(keyId));
    this.loading.set(keyId, done);
    return done;
  }

  private counterFor(keyId: string, limit: RateLimit): WindowCounter {
    const existing = this.counters.get(keyId);
    if (existing && existing.windowSeconds === limit.windowSeconds) return existing;
    // A new window length is a new count (its windows start elsewhere).
    this.counters.delete(keyId);
    const counter = new WindowCounter(keyId, limit);
    counter.lastSeen = this.now();
    this.counters.set(keyId, counter);
    if (this.counters.size > this.options.maxKeys) this.counters.delete(this.counters.keys().next().value as string);
    return counter;
  }

  /** One round trip for every active counter; skipped while the previous one is still out. */
  async sync(): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    try {
      const now = this.now();
      const updates: CountUpdate[] = [];
      const answers: { counter: WindowCounter; current: boolean }[] = [];
      for (const [keyId, counter] of this.counters) {
        if (now - counter.lastSeen > this.options.idleMs && !counter.unconfirmed) {
          this.counters.delete(keyId);
          continue;
        }
        if (!counter.loaded) continue;
        counter.roll(now);
        const late = counter.leftover;
        if (late) {
          counter.leftover = null;
          updates.push(this.update(counter, late, now));
          answers.push({ counter, current: false });
        }
        const sent = counter.startSync();
        if (!sent) continue;
        updates.push(this.update(counter, sent, now));
        answers.push({ counter, current: true });
      }
      if (updates.length === 0) return;
      let totals: number[];
      try {
        totals = await this.store.sync(updates);
      } catch {
        // A window's leftover is not retried: that window is over, and no decision reads it any more.
        for (const { counter, current } of answers) if (current) counter.syncFailed();
        this.storeChanged(false);
        return;
      }
      const answeredAt = this.now();
      answers.forEach(({ counter, current }, index) => {
        if (current) counter.synchronised(totals[index], answeredAt);
      });
      this.storeChanged(true);
    } finally {
      this.syncing = false;
    }
  }

  private update(counter: WindowCounter, part: { window: number; own: number }, now: number): CountUpdate {
    const windowEnd = (part.window + 1) * counter.windowMs;
    return {
      keyId: counter.keyId,
      windowSeconds: counter.windowSeconds,
      window: part.window,
      replica: this.replica,
      own: part.own,
      ttlMs: Math.max(1, windowEnd - now + KEEP_AFTER_WINDOW_MS),
    };
  }

  private storeChanged(up: boolean): void {
    if (up === this.storeUp) return;
    this.storeUp = up;
    this.onStoreChange(up);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
