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
  private readonly recent = new Map<string, number>();
  private readonly revoked = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  touched(change: Touched, now: number): void {
    this.epoch++;
    if (change.keyHash) remember(this.recent, `h:${change.keyHash}`, now + SETTLE_MS, this.maxEntries, now);
    if (change.keyId) remember(this.recent, `k:${change.keyId}`, now + SETTLE_MS, this.maxEntries, now);
    if (change.accountId) remember(this.recent, `a:${change.accountId}`, now + SETTLE_MS, this.maxEntries, now);
  }

  /** Entries held (recent changes, revoked key ids): each bounded by maxEntries. */
  get sizes(): { recent: number; revoked: number } {
    return { recent: this.recent.size, revoked: this.revoked.size };
  }

  markRevoked(keyId: string, now: number): void {
    remember(this.revoked, keyId, now + REVOKED_MEMORY_MS, this.maxEntries, now);
  }

  isRevoked(keyId: string, now: number): boolean {
    return isLive(this.revoked, keyId, now);
  }

  /** True when a reply about this key (or account) may be cached: nothing touched it lately. */
  settled(keyHash: string, keyId: string | null, accountId: string | null, now: number): boolean {
    return (
      !isLive(this.recent, `h:${keyHash}`, now) &&
      (keyId === null || !isLive(this.recent, `k:${keyId}`, now)) &&
      (accountId === null || !isLive(this.recent, `a:${accountId}`, now))
    );
  }
}

function isLive(memory: Map<string, number>, name: string, now: number): boolean {
  const until = memory.get(name);
  return until !== undefined && until > now;
}

/** Insertion order is expiry order (constant lifetimes), so expired and overflowing entries sit at the front. */
function remember(memory: Map<string, number>, name: string, until: number, max: number, now: number): void {
  memory.delete(name);
  memory.set(name, until);
  for (const [oldest, expiry] of memory) {
    if (expiry > now && memory.size <= max) break;
    memory.delete(oldest);
  }
}
