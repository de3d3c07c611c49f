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
  /** Per client: the times of its last `limit` failures, oldest first. */
  private readonly failures = new Map<string, number[]>();

  constructor(options: Partial<FailureThrottleOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Client addresses remembered (at most maxClients). */
  get size(): number {
    return this.failures.size;
  }

  /** 0 when the client may try; otherwise how long it must wait. */
  retryAfterMs(client: string, now: number): number {
    const times = this.failures.get(client);
    if (!times || times.length < this.options.limit) return 0;
    const wait = times[0] + this.options.windowMs - now;
    return wait > 0 ? wait : 0;
  }

  recordFailure(client: string, now: number): void {
    const times = this.failures.get(client) ?? [];
    this.failures.delete(client);
    times.push(now);
    if (times.length > this.options.limit) times.shift();
    this.failures.set(client, times);
    if (this.failures.size > this.options.maxClients) this.failures.delete(this.failures.keys().next().value as string);
  }
}
