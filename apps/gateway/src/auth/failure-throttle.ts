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
  /** Per client: its last `limit` failures (when, and what failed when the caller names it), oldest first. */
  private readonly failures = new Map<string, Failure[]>();

  constructor(options: Partial<FailureThrottleOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Client addresses remembered (at most maxClients). */
  get size(): number {
    return this.failures.size;
  }

  /** 0 when the client may try; otherwise how long it must wait. */
  retryAfterMs(client: string, now: number): number {
    const failures = this.failures.get(client);
    if (!failures || failures.length < this.options.limit) return 0;
    const wait = failures[0].at + this.options.windowMs - now;
    return wait > 0 ? wait : 0;
  }

  /**
   * With `target`, only distinct targets count: the same one failing again within the window
   * (a misconfigured client retrying) is not a new failure, many different ones (a sweep) are.
   */
  recordFailure(client: string, now: number, target?: string): void {
    const failures = this.failures.get(client) ?? [];
    if (target !== undefined && failures.some((failure) => failure.target === target && failure.at + this.options.windowMs > now)) return;
    this.failures.delete(client);
    failures.push({ at: now, target });
    if (failures.length > this.options.limit) failures.shift();
    this.failures.set(client, failures);
    if (this.failures.size > this.options.maxClients) this.failures.delete(this.failures.keys().next().value as string);
  }
}

interface Failure {
  at: number;
  target: string | undefined;
}
