import { randomBytes } from 'node:crypto';
import type { RateLimit } from '@app/contracts';
import type { CountUpdate, RateLimitStore, WindowTotal } from './rate-limit-store.js';
import { WindowCounter, type DecisionRules, type RateLimitDecision } from './window-counter.js';

export interface KeyRateLimiterOptions {
  /** How often counts are pushed to and pulled from the store. */
  syncIntervalMs: number;
  /** Counters kept at once (the memory bound); past it the least recently made one is dropped. */
  maxKeys: number;
  /** A counter unused this long is dropped; its next request reads the store again. */
  idleMs: number;
  /** How long a read of an unknown key's count may hold its first request. */
  loadTimeoutMs: number;
  /** A sync not answered within this long counts as failed. */
  syncTimeoutMs: number;
  /**
   * Predict the other replicas' admissions since the last sync from their recent rate. Off,
   * each replica only knows the last synced total (the plain Tyk/Unkey-style scheme); kept as
   * an option so that the simulation spec and the bench can compare the two.
   */
  predictOthers: boolean;
  /**
   * While the store answers, no decision is made on a view of the other replicas older than
   * this many sync intervals: a request finding one (the process was stalled: a long GC, a
   * starved CPU) waits for the sync already on its way instead. Infinity: never wait.
   */
  maxStaleIntervals: number;
  /**
   * From this fraction of the limit on, each replica spends between syncs only its share of what
   * the last one left (0: always, as shipped; 1: never, for the simulation's comparisons).
   */
  shareAbove: number;
}

export const DEFAULT_RATE_LIMITER_OPTIONS: KeyRateLimiterOptions = {
  syncIntervalMs: 50,
  maxKeys: 100_000,
  idleMs: 10_000,
  loadTimeoutMs: 100,
  syncTimeoutMs: 250,
  predictOthers: true,
  maxStaleIntervals: 3,
  shareAbove: 0,
};

/** How long syncs must have been failing before the replicas count on their own (a slow answer is not an outage). */
const STORE_DOWN_AFTER_MS = 1_000;

/** Syncs a request finding a stale view waits for at most. */
const MAX_SYNC_WAITS = 2;

/** A count is kept this long past its window's end: replicas that sync late still find it. */
const KEEP_AFTER_WINDOW_MS = 60_000;

/**
 * Per-key rate limits across gateway replicas, decided in memory: a request never waits on
 * the network, except the first one for a key this replica has not counted recently (one read
 * of the key's count, so that a restarted replica does not start the window again from zero),
 * and requests that find this process's view older than `maxStaleIntervals` syncs (it stood
 * still) while the store answers: they wait for the sync already on its way. Every
 * `syncIntervalMs` one pipelined round trip records each counter's admissions in the shared
 * count and reads the other replicas' back. See docs/rate-limits.md for the error bound.
 */
export class KeyRateLimiter {
  private readonly counters = new Map<string, WindowCounter>();
  private readonly loading = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  /** The sync in flight, which requests finding a stale view wait for. */
  private running: Promise<void> | null = null;
  /** This process's name in the shared counts: a restarted replica is a new one, its predecessor's count stays. */
  private readonly replica = randomBytes(8).toString('hex');
  private storeUp = true;
  /** When the last sync that the store answered left. */
  private lastSyncOkAt = 0;
  private readonly maxStaleMs: number;
  private readonly rules: DecisionRules;

  constructor(
    private readonly store: RateLimitStore,
    private readonly options: KeyRateLimiterOptions = DEFAULT_RATE_LIMITER_OPTIONS,
    private readonly now: () => number = Date.now,
    private readonly onStoreChange: (up: boolean) => void = () => undefined,
  ) {
    this.maxStaleMs = options.syncIntervalMs * options.maxStaleIntervals;
    const predictForMs = Math.min(this.maxStaleMs, options.syncIntervalMs * 3);
    this.rules = { maxPredictMs: options.predictOthers ? predictForMs : 0, shareAbove: options.shareAbove };
  }

  start(): void {
    this.timer ??= setInterval(() => void this.sync(), this.options.syncIntervalMs);
    this.timer.unref();
  }

  /** Pushes what is pending one last time (a replica that stops keeps its admissions counted). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.sync();
  }

  get size(): number {
    return this.counters.size;
  }

  /** Whether the last sync reached the store; false means every replica limits on its own. */
  get shared(): boolean {
    return this.storeUp;
  }

  /**
   * The decision from memory, or null when this key's count must be read first, or when the
   * view of the other replicas is stale while the store answers (`decideAfterLoad` then waits).
   * `count: false` (an answer that is not forwarded) reports the key's state without using it.
   */
  decide(keyId: string, limit: RateLimit, count = true): RateLimitDecision | null {
    return this.decideWith(keyId, limit, count, false);
  }

  /** Reads the key's current count (once, however many requests wait on it), or waits for a fresh one; then decides. */
  async decideAfterLoad(keyId: string, limit: RateLimit, count = true): Promise<RateLimitDecision> {
    let waits = 0;
    for (;;) {
      const decision = this.decideWith(keyId, limit, count, waits >= MAX_SYNC_WAITS);
      if (decision) return decision;
      const counter = this.counters.get(keyId);
      if (counter?.loaded && counter.windowSeconds === limit.windowSeconds) {
        // Stale: the sync in flight (or one started now) is waited for. One that left before the
        // stall brings an old view, so a second may be; then the decision is made whatever they brought.
        waits += 1;
        await this.sync();
      } else {
        await this.load(keyId, limit);
      }
    }
  }

  private decideWith(keyId: string, limit: RateLimit, count: boolean, staleOk: boolean): RateLimitDecision | null {
    const counter = this.counters.get(keyId);
    if (counter === undefined || !counter.loaded || counter.windowSeconds !== limit.windowSeconds) return null;
    const now = this.now();
    if (!staleOk && this.storeUp && counter.viewAge(now) > this.maxStaleMs) return null;
    counter.requests = limit.requests;
    return counter.decide(now, this.rules, count);
  }

  private load(keyId: string, limit: RateLimit): Promise<void> {
    const running = this.loading.get(keyId);
    if (running) return running;
    const counter = this.counterFor(keyId, limit);
    const window = counter.windowOf(this.now());
    const read = withTimeout(this.store.read(keyId, limit.windowSeconds, window, this.replica), this.options.loadTimeoutMs).then(
      (count) => counter.loadedCount(window, count, this.now()),
      // Unreadable: this replica counts from what it knows, never refusing because of it.
      () => counter.loadedCount(window, { total: counter.own, own: counter.own, activeOthers: 0, rank: 0 }, this.now()),
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

  /** One round trip for every active counter; while the previous one is still out, that one is answered. */
  sync(): Promise<void> {
    this.running ??= this.syncNow().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async syncNow(): Promise<void> {
    const now = this.now();
    const updates: CountUpdate[] = [];
    const answers: { counter: WindowCounter; current: boolean; late?: { window: number; own: number } }[] = [];
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
        updates.push(this.update(counter, { ...late, active: false }, now));
        answers.push({ counter, current: false, late });
      }
      const sent = counter.startSync(now);
      if (!sent) continue;
      updates.push(this.update(counter, sent, now));
      answers.push({ counter, current: true });
    }
    if (updates.length === 0) return;
    let totals: WindowTotal[];
    try {
      // Bounded: requests may be waiting for this answer, and a store that holds commands while it
      // reconnects must not hold them. A sync that lands after its timeout is harmless (absolute counts).
      totals = await withTimeout(this.store.sync(updates), this.options.syncTimeoutMs);
    } catch {
      // A window's leftover goes again with the next sync (unless a later window's has replaced it).
      for (const { counter, current, late } of answers) if (!current && counter.leftover === null) counter.leftover = late ?? null;
      // One slow answer (a starved Redis) is no outage: the counters keep their view and shares, and
      // only once the store has failed for STORE_DOWN_AFTER_MS does every replica count on its own.
      const down = !this.storeUp || this.now() - this.lastSyncOkAt >= STORE_DOWN_AFTER_MS;
      for (const { counter, current } of answers) if (current) counter.syncFailed(down);
      if (down) this.storeChanged(false);
      return;
    }
    // The view is dated when the sync left, not when its answer was read: an answer that waited
    // in the socket while the process stood still is as old as its question.
    answers.forEach(({ counter, current }, index) => {
      if (current) counter.synchronised(totals[index], now);
    });
    this.lastSyncOkAt = now;
    this.storeChanged(true);
  }

  private update(counter: WindowCounter, part: { window: number; own: number; active: boolean }, now: number): CountUpdate {
    const windowEnd = (part.window + 1) * counter.windowMs;
    return {
      keyId: counter.keyId,
      windowSeconds: counter.windowSeconds,
      window: part.window,
      replica: this.replica,
      own: part.own,
      active: part.active,
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
