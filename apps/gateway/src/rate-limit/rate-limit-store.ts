/**
 * One replica's part of a sync: how many requests it has forwarded in total in the window
 * (an absolute number, so that a retried or duplicated sync never counts anything twice).
 */
export interface CountUpdate {
  keyId: string;
  windowSeconds: number;
  window: number;
  replica: string;
  /** This replica's admissions in the window so far. */
  own: number;
  /** How long the count must outlive now: to the end of its window, plus a margin. */
  ttlMs: number;
  /** Whether this replica has decided requests with the key since its previous sync. */
  active: boolean;
}

/** A window's count across replicas, and how many other replicas are deciding requests with the key now. */
export interface WindowTotal {
  total: number;
  /** Other replicas that reported requests with the key within the store's activity span (a second). */
  activeOthers: number;
  /** How many of those sort before this replica: the first `remainder mod replicas` take one request more. */
  rank: number;
}

/** A window's count across replicas, and the part of it this replica contributed. */
export interface SharedCount extends WindowTotal {
  own: number;
}

/**
 * Where replicas share their counts. Every call may reject (store unreachable); the limiter
 * then runs local-only and never refuses traffic because of it.
 */
export interface RateLimitStore {
  read(keyId: string, windowSeconds: number, window: number, replica: string): Promise<SharedCount>;
  /** Records every update in one round trip; answers each window's new total, in order. */
  sync(updates: readonly CountUpdate[]): Promise<WindowTotal[]>;
}
