import type { CacheRead } from '../cache/cache-read.js';
import type { EntryKind, RecentChanges } from '../invalidation/recent-changes.js';
import type { VerifyMetrics } from './verify.metrics.js';

export interface CachedLookupOptions<T> {
  kind: EntryKind;
  /** `shard`: the cache shard of the verify that asked (see `VerifyEntries.shard`). */
  write: (id: string, value: T | null, shard: number) => void;
  /** Asks key-management; null means it knows of no such thing. Rejects when it cannot be asked. */
  fetch: (id: string) => Promise<T | null>;
  changes: RecentChanges;
  metrics: VerifyMetrics;
  /** At most this many lookups are shared at once; past it each miss asks on its own. */
  maxInFlight: number;
}

/**
 * Key-management lookups of one kind of entry behind the Redis cache. The caller reads Redis
 * (a verify reads all its entries in one round trip) and passes what it found; a miss is asked
 * of key-management and the answer written back. Concurrent misses for the same entry share one
 * key-management lookup, and a lookup that an event overtook neither writes its answer to
 * Redis nor is joined by later misses: they ask again.
 */
export class CachedLookup<T> {
  private readonly inFlight = new Map<string, { answer: Promise<T | null>; startedAt: number; shards: Set<number> }>();

  constructor(private readonly options: CachedLookupOptions<T>) {}

  /**
   * `cached`: what Redis held for this entry in the verify's shard; on anything but a hit,
   * key-management is asked, and the answer written to the shard of every verify that waited for it.
   */
  async get(id: string, cached: CacheRead<T>, shard: number): Promise<T | null> {
    this.options.metrics.cacheRead(this.options.kind, cached);
    if (cached.state === 'hit') return cached.value;
    return this.fetchShared(id, shard);
  }

  private fetchShared(id: string, shard: number): Promise<T | null> {
    const { kind, changes } = this.options;
    const running = this.inFlight.get(id);
    if (running && !changes.changedSince(kind, id, running.startedAt)) {
      running.shards.add(shard);
      return running.answer;
    }

    const startedAt = changes.current();
    const shards = new Set([shard]);
    const answer = this.options.fetch(id).then((value) => {
      // No await between this check and the writes: an event handled after it writes after them.
      if (!changes.changedSince(kind, id, startedAt)) for (const into of shards) this.options.write(id, value, into);
      return value;
    });
    if (this.inFlight.size < this.options.maxInFlight || running) {
      this.inFlight.set(id, { answer, startedAt, shards });
      const forget = () => {
        if (this.inFlight.get(id)?.answer === answer) this.inFlight.delete(id);
      };
      answer.then(forget, forget);
    }
    return answer;
  }
}
