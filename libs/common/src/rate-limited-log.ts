import type { Logger } from './logger.js';

/**
 * Logs a recurring failure (Redis down, key-management unreachable) at most once per
 * interval, with how many were held back: an outage must not flood the logs.
 */
export class RateLimitedLog {
  private lastAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(context: Record<string, unknown>, message: string): void {
    const now = this.now();
    if (now - this.lastAt < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.logger.warn({ ...context, suppressed: this.suppressed }, message);
    this.lastAt = now;
    this.suppressed = 0;
  }
}
