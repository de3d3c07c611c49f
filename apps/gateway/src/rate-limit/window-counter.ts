import type { RateLimit } from '@app/contracts';

/** What the limiter answers for one request made with a limited key. */
export interface RateLimitDecision {
  allowed: boolean;
  limit: RateLimit;
  /** Requests the key may still make in this window (after this one, if it was allowed). */
  remaining: number;
  /** Whole seconds until the window resets (at least 1). */
  resetSeconds: number;
}

/**
 * One key's count in its current fixed window (windows are aligned to the epoch, so every
 * replica agrees on where a window starts), as this replica knows it:
 *
 * - `own`: what this replica forwarded in the window (exact, local);
 * - `others`: what the other replicas had forwarded at the last sync;
 * - `othersRate`: how fast the other replicas forwarded between the last two syncs; until the
 *   next sync their admissions are predicted from it, which makes steady load across replicas
 *   almost exact where a plain "last synced total" lets each replica overshoot by a sync interval.
 */
export class WindowCounter {
  requests: number;
  readonly windowSeconds: number;
  readonly windowMs: number;
  window = -1;
  own = 0;
  others = 0;
  /** When `others` was read (ms). */
  syncedAt = 0;
  /** The other replicas' admissions per millisecond; 0 while the store is out of reach (local-only). */
  othersRate = 0;
  /** The sync in flight, if any: its window and the own count it carries. */
  inFlight: { window: number; own: number } | null = null;
  /** The own count the store has confirmed for the current window. */
  confirmedOwn = 0;
  /** The own count of the window just ended, when the store had not confirmed all of it: sent at the next sync. */
  leftover: { window: number; own: number } | null = null;
  lastSeen = 0;
  /** Whether this window's shared count has been read (or found unreadable) since the counter was made. */
  loaded = false;

  constructor(
    readonly keyId: string,
    limit: RateLimit,
  ) {
    this.requests = limit.requests;
    this.windowSeconds = limit.windowSeconds;
    this.windowMs = limit.windowSeconds * 1000;
  }

  windowOf(nowMs: number): number {
    return Math.floor(nowMs / this.windowMs);
  }

  /** Moves to the window `nowMs` falls in; a new window starts at zero for every replica. */
  roll(nowMs: number): void {
    const window = this.windowOf(nowMs);
    if (window === this.window) return;
    // The shared count of the window that ended must hold every request it forwarded.
    this.leftover = this.own > this.confirmedOwn && this.window === window - 1 ? { window: this.window, own: this.own } : null;
    this.window = window;
    this.own = 0;
    this.confirmedOwn = 0;
    this.others = 0;
    this.syncedAt = window * this.windowMs;
  }

  /**
   * Admits one request when the estimated replica-wide count leaves room for it. The
   * prediction of the other replicas' admissions is capped at `maxPredictMs` of their rate,
   * so a store that stopped answering never turns into refusing traffic.
   */
  decide(nowMs: number, maxPredictMs: number): RateLimitDecision {
    this.roll(nowMs);
    this.lastSeen = nowMs;
    const predicted = this.othersRate * Math.min(Math.max(0, nowMs - this.syncedAt), maxPredictMs);
    const estimate = this.own + this.others + predicted;
    const allowed = estimate + 1 <= this.requests;
    if (allowed) this.own += 1;
    const used = allowed ? estimate + 1 : estimate;
    return {
      allowed,
      limit: { requests: this.requests, windowSeconds: this.windowSeconds },
      remaining: Math.max(0, Math.floor(this.requests - used)),
      resetSeconds: Math.max(1, Math.ceil(((this.window + 1) * this.windowMs - nowMs) / 1000)),
    };
  }

  /** The shared count read before this replica decided anything in the window (its own part included). */
  loadedCount(window: number, total: number, own: number, nowMs: number): void {
    this.roll(nowMs);
    this.loaded = true;
    if (window !== this.window) return;
    // A counter made again (evicted, or a new limit) continues its replica's own count.
    this.own = Math.max(this.own, own);
    this.confirmedOwn = own;
    this.others = Math.max(0, total - own);
    this.syncedAt = nowMs;
  }

  /** The own count to send; null when a sync is already in flight. */
  startSync(): { window: number; own: number } | null {
    if (this.inFlight) return null;
    this.inFlight = { window: this.window, own: this.own };
    return this.inFlight;
  }

  /** The store answered: `total` is the window's count across replicas once ours was recorded. */
  synchronised(total: number, nowMs: number): void {
    const sent = this.inFlight;
    this.inFlight = null;
    if (!sent || sent.window !== this.window) return;
    this.confirmedOwn = Math.max(this.confirmedOwn, sent.own);
    const others = Math.max(0, total - sent.own);
    const elapsed = nowMs - this.syncedAt;
    if (elapsed > 0) {
      const rate = Math.max(0, others - this.others) / elapsed;
      // Smoothed over two syncs: one late sync does not make the prediction jump.
      this.othersRate = this.othersRate === 0 ? rate : (rate + this.othersRate) / 2;
    }
    this.others = others;
    this.syncedAt = nowMs;
  }

  /**
   * The store did not answer: nothing is lost (the next sync sends the whole own count again)
   * and nothing is predicted of the other replicas: local-only until it answers.
   */
  syncFailed(): void {
    this.inFlight = null;
    this.othersRate = 0;
  }

  /** Whether this replica forwarded requests the store has not confirmed yet. */
  get unconfirmed(): boolean {
    return this.own > this.confirmedOwn || this.leftover !== null;
  }
}
