import type { Logger } from './logger.js';

/**
 * Logs a recurring failure (Redis down, key-management unreachable, a full publish queue) at most
 * once per interval, with how many were held back: an outage must not flood the logs.
 */
export class RateLimitedLog {
  private lastAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when the line was written, false when it was held back. */
  warn(context: Record<string, unknown>, message: string): boolean {
    return this.write('warn', context, message);
  }

  error(context: Record<string, unknown>, message: string): boolean {
    return this.write('error', context, message);
  }

  private write(level: 'warn' | 'error', context: Record<string, unknown>, message: string): boolean {
    const now = this.now();
    if (now - this.lastAt < this.intervalMs) {
      this.suppressed++;
      return false;
    }
    this.logger[level]({ ...context, suppressed: this.suppressed }, message);
    this.lastAt = now;
    this.suppressed = 0;
    return true;
  }
}
