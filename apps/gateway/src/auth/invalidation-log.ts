import { ExpiringMap } from '@app/common';

/** How long after an invalidation replies touching it are used but not cached: verifier replicas may lag the event. */
export const SETTLE_MS = 2_000;
/** A revoked key never works again; remembering it this long outlives any stale cache upstream. */
export const REVOKED_MEMORY_MS = 10 * 60_000;

export interface Touched {
  keyHash?: string;
  keyId?: string;
  accountId?: string | null;
}

/**
 * What changed recently, so that a reply racing a change is not trusted blindly:
 * - `epoch` moves on every invalidation; a reply to a request sent before it is not cached;
 * - hashes, key ids and accounts touched in the last SETTLE_MS are not cached either, because
 *   a verifier replica may answer from its own cache before it has seen the same event;
 * - revoked key ids are refused outright for REVOKED_MEMORY_MS, whatever a (stale) reply says.
 * Both memories are bounded in time and size.
 */
export class InvalidationLog {
  epoch = 0;
  private readonly recent: ExpiringMap<string, true>;
  private readonly revoked: ExpiringMap<string, true>;

  constructor(maxEntries = 100_000) {
    this.recent = new ExpiringMap({ maxEntries, ttlMs: SETTLE_MS });
    this.revoked = new ExpiringMap({ maxEntries, ttlMs: REVOKED_MEMORY_MS });
  }

  touched(change: Touched, now: number): void {
    this.epoch++;
    if (change.keyHash) this.recent.set(`h:${change.keyHash}`, true, now);
    if (change.keyId) this.recent.set(`k:${change.keyId}`, true, now);
    if (change.accountId) this.recent.set(`a:${change.accountId}`, true, now);
  }

  /** Entries held (recent changes, revoked key ids): each bounded by maxEntries. */
  get sizes(): { recent: number; revoked: number } {
    return { recent: this.recent.size, revoked: this.revoked.size };
  }

  markRevoked(keyId: string, now: number): void {
    this.revoked.set(keyId, true, now);
  }

  isRevoked(keyId: string, now: number): boolean {
    return this.revoked.has(keyId, now);
  }

  /** True when a reply about this key (or account) may be cached: nothing touched it lately. */
  settled(keyHash: string, keyId: string | null, accountId: string | null, now: number): boolean {
    return (
      !this.recent.has(`h:${keyHash}`, now) &&
      (keyId === null || !this.recent.has(`k:${keyId}`, now)) &&
      (accountId === null || !this.recent.has(`a:${accountId}`, now))
    );
  }
}
