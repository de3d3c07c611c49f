import type { RateLimit } from '@app/contracts';
import type { SharedCount, WindowTotal } from './rate-limit-store.js';

/** How long a counter remembers how many replicas shared its key (as long as an idle counter is kept). */
const REPLICAS_MEMORY_MS = 10_000;

/** What the limiter answers for one request made with a limited key. */
export interface RateLimitDecision {
  allowed: boolean;
  limit: RateLimit;
  /** Requests the key may still make in this window (after this one, if it was allowed). */
  remaining: number;
  /** Whole seconds until the window resets (at least 1). */
  resetSeconds: number;
}

/** How a counter turns its view of the shared count into a decision. */
export interface DecisionRules {
  /** The other replicas' admissions since the last sync are predicted from their rate for at most this long. */
  maxPredictMs: number;
  /**
   * From this fraction of the limit on, a replica admits between two syncs only its share of
   * what the last sync left (that remainder divided by the replicas deciding requests with the
   * key): replicas that cannot see each other's latest admissions cannot all spend the same
   * remainder, even when a burst reaches all of them at once.
   */
  shareAbove: number;
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
  /** The part of `own` the last sync had recorded when `others` was read: what came after is unseen by the others. */
  ownInView = 0;
  /**
   * Replicas deciding requests with the key, this one included (at least 1): the most seen by this
   * counter within REPLICAS_MEMORY_MS, so that replicas idle for a moment (a client that paused)
   * still get their share when a burst reaches them all at once.
   */
  replicas = 1;
  /** When `replicas` was last seen that high. */
  replicasSeenAt = 0;
  /** This replica's place among them (0-based): the first `remainder mod replicas` take one request more. */
  rank = 0;
  /** What this replica forwarded between its last two recorded syncs: what each other one may have forwarded unseen. */
  lastDelta = 0;
  /** When the last sync left: whether requests were decided since then says if this replica is active. */
  syncStartedAt = 0;
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
    // The shared count of the window that ended must hold every request it forwarded (also when
    // the process stood still past a whole window: it was not synced since).
    this.leftover = this.own > this.confirmedOwn ? { window: this.window, own: this.own } : null;
    this.window = window;
    this.own = 0;
    this.confirmedOwn = 0;
    this.ownInView = 0;
    this.lastDelta = 0;
    this.others = 0;
    this.syncedAt = window * this.windowMs;
  }

  /** How old the view of the other replicas is (ms). */
  viewAge(nowMs: number): number {
    return nowMs - this.syncedAt;
  }

  /**
   * Admits one request when the estimated replica-wide count leaves room for it, and this
   * replica's share of the remainder does. The prediction of the other replicas' admissions is
   * capped, so a store that stopped answering never turns into refusing traffic. `count: false`
   * answers what the headers say without counting a request (nor making this replica active).
   */
  decide(nowMs: number, rules: DecisionRules, count = true): RateLimitDecision {
    this.roll(nowMs);
    if (count) this.lastSeen = nowMs;
    const predicted = this.othersRate * Math.min(Math.max(0, nowMs - this.syncedAt), rules.maxPredictMs);
    const estimate = this.own + this.others + predicted;
    let allowed = estimate + 1 <= this.requests;
    if (allowed && this.replicas > 1 && estimate + 1 > this.requests * rules.shareAbove) {
      // Shares add up to the remainder exactly: its odd requests go to the replicas ranked first.
      // The others' admissions not yet in the view: their predicted rate, or, when that says less, as many each as
      // this replica forwarded in its last sync interval (replicas behind one balancer see about the same traffic).
      const unseen = Math.max(predicted, (this.replicas - 1) * this.lastDelta);
      const leftAtSync = Math.max(0, Math.floor(this.requests - this.ownInView - this.others - unseen));
      const share = Math.floor(leftAtSync / this.replicas) + (this.rank < leftAtSync % this.replicas ? 1 : 0);
      allowed = this.own - this.ownInView + 1 <= share;
    }
    allowed &&= count;
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
  loadedCount(window: number, count: SharedCount, nowMs: number): void {
    this.roll(nowMs);
    this.loaded = true;
    if (window !== this.window) return;
    // A counter made again (evicted, or a new limit) continues its replica's own count.
    this.own = Math.max(this.own, count.own);
    this.confirmedOwn = count.own;
    this.ownInView = count.own;
    this.others = Math.max(0, count.total - count.own);
    this.sawReplicas(1 + count.activeOthers, nowMs);
    this.rank = count.rank;
    this.syncedAt = nowMs;
  }

  /** The own count to send, and whether requests were decided since the last one left; null when a sync is already in flight. */
  startSync(nowMs: number): { window: number; own: number; active: boolean } | null {
    if (this.inFlight) return null;
    const active = this.lastSeen >= this.syncStartedAt;
    this.syncStartedAt = nowMs;
    this.inFlight = { window: this.window, own: this.own };
    return { ...this.inFlight, active };
  }

  /** The store answered: `total` is the window's count across replicas once ours was recorded. */
  synchronised({ total, activeOthers, rank }: WindowTotal, nowMs: number): void {
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
    this.lastDelta = Math.max(0, sent.own - this.ownInView);
    this.ownInView = sent.own;
    this.sawReplicas(1 + activeOthers, nowMs);
    this.rank = rank;
    this.syncedAt = nowMs;
  }

  private sawReplicas(replicas: number, nowMs: number): void {
    if (replicas < this.replicas && nowMs - this.replicasSeenAt <= REPLICAS_MEMORY_MS) return;
    this.replicas = replicas;
    this.replicasSeenAt = nowMs;
  }

  /**
   * The store did not answer: nothing is lost (the next sync sends the whole own count again).
   * While that is a passing failure the view and shares stay; once the store counts as down,
   * nothing is predicted of the other replicas nor shared with them: local-only (the whole
   * limit, from the last count seen) until it answers.
   */
  syncFailed(storeDown: boolean): void {
    this.inFlight = null;
    if (!storeDown) return;
    this.othersRate = 0;
    this.replicas = 1;
    this.replicasSeenAt = 0;
    this.rank = 0;
  }

  /** Whether this replica forwarded requests the store has not confirmed yet. */
  get unconfirmed(): boolean {
    return this.own > this.confirmedOwn || this.leftover !== null;
  }
}
