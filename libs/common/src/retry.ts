export interface RetryOptions {
  /** Give up (rethrowing the last error) once this much time has passed since the first attempt. */
  timeoutMs: number;
  /** Whether an error is worth another attempt; any other is rethrown at once. */
  retryable: (error: unknown) => boolean;
  onRetry?: (error: unknown, delayMs: number) => void;
  /** First pause; each next one doubles, up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Calls `attempt` until it resolves, pausing with exponential back-off after each retryable failure. */
export async function retryWithBackoff<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { sleep = realSleep, now = Date.now, initialDelayMs = 500, maxDelayMs = 10_000 } = options;
  const deadline = now() + options.timeoutMs;
  let delayMs = initialDelayMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!options.retryable(error)) throw error;
      const left = deadline - now();
      if (left <= 0) throw error;
      const pause = Math.min(delayMs, left);
      options.onRetry?.(error, pause);
      await sleep(pause);
      delayMs = Math.min(delayMs * 2, maxDelayMs);
    }
  }
}

/** Socket errors and PostgreSQL's "not accepting connections yet" states. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
  '57P01', // admin_shutdown: the init server of a fresh container stopping
  '08000',
  '08001',
  '08006',
  '53300', // too_many_connections
]);

/**
 * A server that does not answer (yet): refused, reset, unresolvable, starting up. A server that
 * answers with an error (wrong password, failed SQL, certificate refused) is not unreachable.
 */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isUnreachable);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  // node-postgres reports a socket closed during the handshake without a code.
  return error instanceof Error && /^Connection terminated (unexpectedly|due to connection timeout)/.test(error.message);
}
