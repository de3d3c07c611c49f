import { ExpiringMap } from '@app/common';

export interface FailureThrottleOptions {
  /** Failures allowed within the window; the next attempt is throttled. */
  limit: number;
  windowMs: number;
  /** Client addresses remembered at most (least recently failing forgotten first). */
  maxClients: number;
}

const DEFAULTS: FailureThrottleOptions = { limit: 50, windowMs: 60_000, maxClients: 10_000 };

/**
 * Brute-force brake: a client address with `limit` invalid keys within `windowMs` is refused
 * until the oldest of those failures leaves the window. Only failures count, so valid keys
 * from the same address (answered from the cache) and every other client are unaffected.
 */
export class FailureThrottle {
  private readonly options: FailureThrottleOptions;
  /**
   * Per client: its last `limit` failures (when, and what failed when the caller names it), oldest
   * first; forgotten a window after its latest failure, when none of them counts any more.
   */
  private readonly failures: ExpiringMap<string, Failure[]>;

  constructor(options: Partial<FailureThrottleOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.failures = new ExpiringMap({ maxEntries: this.options.maxClients, ttlMs: this.options.windowMs });
  }

  /** Client addresses remembered (at most maxClients). */
  get size(): number {
    return this.failures.size;
  }

  /** 0 when the client may try; otherwise how long it must wait. */
  retryAfterMs(client: string, now: number): number {
    const failures = this.failures.peek(client, now);
    if (!failures || failures.length < this.options.limit) return 0;
    const wait = failures[0].at + this.options.windowMs - now;
    return wait > 0 ? wait : 0;
  }

  /**
   * With `target`, only distinct targets count: the same one failing again within the window
   * (a misconfigured client retrying) is not a new failure, many different ones (a sweep) are.
   */
  recordFailure(client: string, now: number, target?: string): void {
    const failures = this.failures.peek(client, now) ?? [];
    if (target !== undefined && failures.some((failure) => failure.target === target && failure.at + this.options.windowMs > now)) return;
    failures.push({ at: now, target });
    if (failures.length > this.options.limit) failures.shift();
    // The most recently failing client: past maxClients, the least recently failing one is forgotten.
    this.failures.set(client, failures, now);
  }
}

interface Failure {
  at: number;
  target: string | undefined;
}
