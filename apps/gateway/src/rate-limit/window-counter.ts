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
 * - `synced`: the replica-wide total Redis reported at the last sync (ours included);
 * - `pushing`: our admissions sent to Redis and not yet confirmed; `pending`: not yet sent;
 * - `othersRate`: how fast the other replicas admitted between the last two syncs; until the
 *   next sync their admissions are predicted from it, which makes steady load across replicas
 *   almost exact where a plain "last synced total" lets each replica overshoot by a sync interval.
 */
export class WindowCounter {
  requests: number;
  readonly windowSeconds: number;
  readonly windowMs: number;
  window = -1;
  synced = 0;
  /** Our admissions Redis has confirmed in this window. */
  ownSynced = 0;
  /** The other replicas' admissions at the last sync, and when that was (ms). */
  othersAtSync = 0;
  syncedAt = 0;
  /** The other replicas' admissions per millisecond; 0 while Redis is out of reach (local-only). */
  othersRate = 0;
  pending = 0;
  pushing = 0;
  /** The sync in flight, if any: its window and delta. */
  inFlight: { window: number; delta: number } | null = null;
  /** Admissions of the window just ended that were not pushed before it ended: pushed at the next sync. */
  leftover: { window: number; delta: number } | null = null;
  lastSeen = 0;
  /** Whether this window's total has been read from Redis (or found unreadable) since the counter was made. */
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
    // The shared count of the window that ended must hold every request it forwarded: what it
    // had not pushed yet goes out with the next sync (a sync already in flight carries its own).
    this.leftover = this.pending > 0 && this.window === window - 1 ? { window: this.window, delta: this.pending } : null;
    this.window = window;
    this.synced = 0;
    this.ownSynced = 0;
    this.othersAtSync = 0;
    this.syncedAt = window * this.windowMs;
    this.pending = 0;
    // A sync in flight counts the previous window; its answer is ignored when it arrives.
    this.pushing = 0;
  }

  /**
   * Admits one request when the estimated replica-wide count leaves room for it. The
   * prediction of the other replicas' admissions is capped at `maxPredictMs` of their rate,
   * so a Redis that stopped answering never turns into refusing traffic.
   */
  decide(nowMs: number, maxPredictMs: number): RateLimitDecision {
    this.roll(nowMs);
    this.lastSeen = nowMs;
    const predicted = this.othersRate * Math.min(Math.max(0, nowMs - this.syncedAt), maxPredictMs);
    const estimate = this.synced + this.pushing + this.pending + predicted;
    const allowed = estimate + 1 <= this.requests;
    if (allowed) this.pending += 1;
    const used = allowed ? estimate + 1 : estimate;
    return {
      allowed,
      limit: { requests: this.requests, windowSeconds: this.windowSeconds },
      remaining: Math.max(0, Math.floor(this.requests - used)),
      resetSeconds: Math.max(1, Math.ceil(((this.window + 1) * this.windowMs - nowMs) / 1000)),
    };
  }

  /** The replica-wide total read before this replica counted anything in the window. */
  loadedTotal(window: number, total: number, nowMs: number): void {
    this.roll(nowMs);
    this.loaded = true;
    if (window !== this.window) return;
    this.synced = this.ownSynced + Math.max(0, total - this.ownSynced);
    this.othersAtSync = Math.max(0, total - this.ownSynced);
    this.syncedAt = nowMs;
  }

  /** Takes what is pending for a push to Redis; null when a sync is already in flight. */
  startSync(): { window: number; delta: number } | null {
    if (this.inFlight) return null;
    this.inFlight = { window: this.window, delta: this.pending };
    this.pushing += this.pending;
    this.pending = 0;
    return this.inFlight;
  }

  /** Redis answered the sync: `total` is the replica-wide count after our delta was added. */
  synchronised(total: number, nowMs: number): void {
    const sent = this.inFlight;
    this.inFlight = null;
    if (!sent || sent.window !== this.window) return;
    this.pushing -= sent.delta;
    this.ownSynced += sent.delta;
    const others = Math.max(0, total - this.ownSynced);
    const elapsed = nowMs - this.syncedAt;
    if (elapsed > 0) {
      const rate = Math.max(0, others - this.othersAtSync) / elapsed;
      // Smoothed over two syncs: one late sync does not make the prediction jump.
      this.othersRate = this.othersRate === 0 ? rate : (rate + this.othersRate) / 2;
    }
    this.othersAtSync = others;
    this.synced = this.ownSynced + others;
    this.syncedAt = nowMs;
  }

  /**
   * Redis did not answer: our delta goes back to pending (pushed once Redis is back, so the
   * window's count survives) and nothing is predicted of the other replicas: local-only.
   */
  syncFailed(): void {
    const sent = this.inFlight;
    this.inFlight = null;
    this.othersRate = 0;
    if (!sent || sent.window !== this.window) return;
    this.pushing -= sent.delta;
    this.pending += sent.delta;
  }
}
