import type { CheckedReply } from './verify-reply.js';

interface Entry {
  reply: CheckedReply;
  expiresAt: number;
  keyHash: string;
  accountId: string | null;
  /** The cache's move count when this entry last became the newest of its store. */
  movedAt: number;
}

export interface VerifyCacheOptions {
  maxEntries: number;
  ttlMs: number;
  negativeTtlMs: number;
}

/** One entry per key hash and target chatbot; the hash is fixed-length, so the concatenation is unambiguous. */
export function cacheKeyFor(keyHash: string, chatbotId: string | null): string {
  return chatbotId === null ? keyHash : `${keyHash}:${chatbotId}`;
}

/**
 * Bounded, least-recently-used cache of `auth.verify` replies, keyed by key hash (never the key).
 * Invalid keys and refusals of a valid key outside its reach each live in their own, smaller
 * store: neither a flood of random keys nor one key tried on random chatbot ids can push the
 * allowed answers out. Indexes by hash, key id and account let an event drop exactly what it touches.
 *
 * Recency is kept by moving an entry to the end of its store's insertion order, but a hit moves
 * it only once half a store's worth of entries has moved past it: an entry read is never evicted
 * before that many new entries arrive, and the hot path (the same keys again and again) does not
 * pay a delete and an insert per request.
 */
export class VerifyCache {
  private readonly positive = new Map<string, Entry>();
  private readonly negative = new Map<string, Entry>();
  private readonly refused = new Map<string, Entry>();
  private readonly byHash = new Map<string, Set<string>>();
  private readonly byAccount = new Map<string, Set<string>>();
  private readonly hashByKeyId = new Map<string, string>();
  private readonly maxNegative: number;
  /** Counts insertions and moves to the newest position, across both stores. */
  private moves = 0;

  constructor(private readonly options: VerifyCacheOptions) {
    this.maxNegative = Math.max(1, Math.ceil(options.maxEntries / 10));
  }

  get size(): number {
    return this.positive.size + this.negative.size + this.refused.size;
  }

  /** Entries per store, for the memory gauges: all are bounded (maxEntries; a tenth of it for invalid keys, and for refusals). */
  get sizes(): { positive: number; negative: number; refused: number } {
    return { positive: this.positive.size, negative: this.negative.size, refused: this.refused.size };
  }

  get(cacheKey: string, now: number): CheckedReply | undefined {
    let store = this.positive;
    let entry = store.get(cacheKey);
    if (entry === undefined) {
      store = this.negative;
      entry = store.get(cacheKey);
      if (entry === undefined) {
        store = this.refused;
        entry = store.get(cacheKey);
        if (entry === undefined) return undefined;
      }
    }
    if (entry.expiresAt <= now) {
      this.delete(cacheKey);
      return undefined;
    }
    const bound = store === this.positive ? this.options.maxEntries : this.maxNegative;
    if (this.moves - entry.movedAt >= bound / 2) {
      store.delete(cacheKey);
      store.set(cacheKey, entry);
      entry.movedAt = ++this.moves;
    }
    return entry.reply;
  }

  /**
   * Any live reply held for this key hash, whatever chatbot it was asked for: whether a key is
   * valid does not depend on the target, only whether it is allowed there does.
   */
  anyFor(keyHash: string, now: number): CheckedReply | undefined {
    const cacheKeys = this.byHash.get(keyHash);
    if (cacheKeys === undefined) return undefined;
    // `get` drops an expired entry: deleting the current element is safe while iterating a Set.
    for (const cacheKey of cacheKeys) {
      const reply = this.get(cacheKey, now);
      if (reply !== undefined) return reply;
    }
    return undefined;
  }

  /** Answers "could not verify" are never cached, nor keys already past their end: the next request asks again. */
  set(cacheKey: string, keyHash: string, reply: CheckedReply, now: number): void {
    if (!reply.valid && reply.code === 'auth_unavailable') return;
    this.delete(cacheKey);
    const store = !reply.valid ? this.negative : reply.allowed ? this.positive : this.refused;
    const ttl = reply.valid ? this.options.ttlMs : this.options.negativeTtlMs;
    const accountId = reply.valid ? reply.accountId : null;
    // An entry never outlives the key itself (its expiry or a roll's grace end).
    const expiresAt = reply.valid && reply.endsAtMs !== undefined ? Math.min(now + ttl, reply.endsAtMs) : now + ttl;
    if (expiresAt <= now) return;
    store.set(cacheKey, { reply, expiresAt, keyHash, accountId, movedAt: ++this.moves });
    addTo(this.byHash, keyHash, cacheKey);
    if (accountId !== null) addTo(this.byAccount, accountId, cacheKey);
    if (reply.valid) this.hashByKeyId.set(reply.keyId, keyHash);
    const bound = store === this.positive ? this.options.maxEntries : this.maxNegative;
    while (store.size > bound) this.delete(store.keys().next().value as string);
  }

  dropKeyHash(keyHash: string): void {
    for (const cacheKey of [...(this.byHash.get(keyHash) ?? [])]) this.delete(cacheKey);
  }

  dropKeyId(keyId: string): void {
    const keyHash = this.hashByKeyId.get(keyId);
    if (keyHash !== undefined) this.dropKeyHash(keyHash);
  }

  dropAccount(accountId: string): void {
    for (const cacheKey of [...(this.byAccount.get(accountId) ?? [])]) this.delete(cacheKey);
  }

  clear(): void {
    for (const map of [this.positive, this.negative, this.refused, this.byHash, this.byAccount, this.hashByKeyId]) map.clear();
  }

  private delete(cacheKey: string): void {
    const entry = this.positive.get(cacheKey) ?? this.negative.get(cacheKey) ?? this.refused.get(cacheKey);
    if (!entry) return;
    this.positive.delete(cacheKey);
    this.negative.delete(cacheKey);
    this.refused.delete(cacheKey);
    removeFrom(this.byHash, entry.keyHash, cacheKey);
    if (entry.accountId !== null) removeFrom(this.byAccount, entry.accountId, cacheKey);
    if (entry.reply.valid && !this.byHash.has(entry.keyHash)) this.hashByKeyId.delete(entry.reply.keyId);
  }
}

function addTo(index: Map<string, Set<string>>, name: string, cacheKey: string): void {
  const set = index.get(name);
  if (set) set.add(cacheKey);
  else index.set(name, new Set([cacheKey]));
}

function removeFrom(index: Map<string, Set<string>>, name: string, cacheKey: string): void {
  const set = index.get(name);
  if (!set) return;
  set.delete(cacheKey);
  if (set.size === 0) index.delete(name);
}
