import { ExpiringMap } from '@app/common';
import type { CheckedReply } from './verify-reply.js';

/** What a store holds per cache key: the reply, and the hash the indexes file it under. */
interface Entry {
  readonly reply: CheckedReply;
  readonly keyHash: string;
}

/** The cache keys of one account, under the one copy of its id that every entry of the account shares. */
interface AccountEntries {
  readonly accountId: string;
  readonly cacheKeys: Set<string>;
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
 * allowed answers out. Indexes by hash, key id and account let an event drop exactly what it
 * touches; every store tells the indexes of each entry leaving it, for whatever reason.
 *
 * Sized for a gateway holding 100,000 keys in a few hundred bytes each: a key asked for one target
 * (the usual case) is indexed by its hash without a set of its own, and the entries of an account
 * share one copy of its id.
 */
export class VerifyCache {
  private readonly positive: ExpiringMap<string, Entry>;
  private readonly negative: ExpiringMap<string, Entry>;
  private readonly refused: ExpiringMap<string, Entry>;
  /** Cache keys per key hash: the bare cache key while there is one, a set past that. */
  private readonly byHash = new Map<string, string | Set<string>>();
  private readonly byAccount = new Map<string, AccountEntries>();
  private readonly hashByKeyId = new Map<string, string>();

  constructor(private readonly options: VerifyCacheOptions) {
    const onRemove = (cacheKey: string, entry: Entry) => this.unindex(cacheKey, entry);
    const small = Math.max(1, Math.ceil(options.maxEntries / 10));
    this.positive = new ExpiringMap({ maxEntries: options.maxEntries, ttlMs: options.ttlMs, onRemove });
    this.negative = new ExpiringMap({ maxEntries: small, ttlMs: options.negativeTtlMs, onRemove });
    this.refused = new ExpiringMap({ maxEntries: small, ttlMs: options.negativeTtlMs, onRemove });
  }

  get size(): number {
    return this.positive.size + this.negative.size + this.refused.size;
  }

  /** Entries per store, for the memory gauges: all are bounded (maxEntries; a tenth of it for invalid keys, and for refusals). */
  get sizes(): { positive: number; negative: number; refused: number } {
    return { positive: this.positive.size, negative: this.negative.size, refused: this.refused.size };
  }

  get(cacheKey: string, now: number): CheckedReply | undefined {
    const entry = this.positive.get(cacheKey, now) ?? this.negative.get(cacheKey, now) ?? this.refused.get(cacheKey, now);
    return entry?.reply;
  }

  /**
   * Any live reply held for this key hash, whatever chatbot it was asked for: whether a key is
   * valid does not depend on the target, only whether it is allowed there does.
   */
  anyFor(keyHash: string, now: number): CheckedReply | undefined {
    const cacheKeys = this.byHash.get(keyHash);
    if (cacheKeys === undefined) return undefined;
    if (typeof cacheKeys === 'string') return this.get(cacheKeys, now);
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
    // An entry never outlives the key itself (its expiry or a roll's grace end).
    const expiresAt = reply.valid && reply.endsAtMs !== undefined ? Math.min(now + ttl, reply.endsAtMs) : now + ttl;
    if (!store.set(cacheKey, { reply, keyHash }, now, expiresAt)) return;
    if (reply.valid) {
      let account = this.byAccount.get(reply.accountId);
      if (account === undefined) this.byAccount.set(reply.accountId, (account = { accountId: reply.accountId, cacheKeys: new Set() }));
      // The same id as the account's other entries: keep one copy of it, not one per key.
      reply.accountId = account.accountId;
      account.cacheKeys.add(cacheKey);
      this.hashByKeyId.set(reply.keyId, keyHash);
    }
    const held = this.byHash.get(keyHash);
    if (held === undefined) this.byHash.set(keyHash, cacheKey);
    else if (typeof held === 'string') this.byHash.set(keyHash, new Set([held, cacheKey]));
    else held.add(cacheKey);
  }

  dropKeyHash(keyHash: string): void {
    const cacheKeys = this.byHash.get(keyHash);
    if (typeof cacheKeys === 'string') this.delete(cacheKeys);
    else for (const cacheKey of [...(cacheKeys ?? [])]) this.delete(cacheKey);
  }

  dropKeyId(keyId: string): void {
    const keyHash = this.hashByKeyId.get(keyId);
    if (keyHash !== undefined) this.dropKeyHash(keyHash);
  }

  dropAccount(accountId: string): void {
    for (const cacheKey of [...(this.byAccount.get(accountId)?.cacheKeys ?? [])]) this.delete(cacheKey);
  }

  clear(): void {
    for (const store of [this.positive, this.negative, this.refused]) store.clear();
  }

  private delete(cacheKey: string): void {
    this.positive.delete(cacheKey);
    this.negative.delete(cacheKey);
    this.refused.delete(cacheKey);
  }

  /** Called by the stores for every entry leaving them. */
  private unindex(cacheKey: string, { reply, keyHash }: Entry): void {
    const held = this.byHash.get(keyHash);
    if (held === cacheKey) this.byHash.delete(keyHash);
    else if (typeof held === 'object') {
      held.delete(cacheKey);
      if (held.size === 1) this.byHash.set(keyHash, held.values().next().value as string);
    }
    if (!reply.valid) return;
    const account = this.byAccount.get(reply.accountId);
    if (account !== undefined) {
      account.cacheKeys.delete(cacheKey);
      if (account.cacheKeys.size === 0) this.byAccount.delete(reply.accountId);
    }
    if (!this.byHash.has(keyHash)) this.hashByKeyId.delete(reply.keyId);
  }
}
