/** One counter's part of a sync: add `delta` to the window's replica-wide count and read it back. */
export interface CountUpdate {
  keyId: string;
  windowSeconds: number;
  window: number;
  delta: number;
  /** How long the count must outlive now: to the end of its window, plus a margin. */
  ttlMs: number;
}

/**
 * Where replicas share their counts. Every call may reject (store unreachable); the limiter
 * then runs local-only and never refuses traffic because of it.
 */
export interface RateLimitStore {
  /** The replica-wide count of a window (0 when none). */
  read(keyId: string, windowSeconds: number, window: number): Promise<number>;
  /** Applies every update in one round trip; answers each one's new total, in order. */
  sync(updates: readonly CountUpdate[]): Promise<number[]>;
}
