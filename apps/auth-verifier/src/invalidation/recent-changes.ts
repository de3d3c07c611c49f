import type { Plan } from '@app/contracts';
import { ExpiringMap } from '../shared/expiring-map.js';

/** What the verifier caches: a key record by key hash, a plan by account id, an owner by chatbot id. */
export type EntryKind = 'key' | 'account' | 'chatbot';

export interface RecentChangesOptions {
  /** How long revocations and chatbot deletions are remembered: longer than any cache entry lives. */
  rememberMs: number;
  /** How long a plan change overrides what Redis or an in-flight lookup says. */
  planOverrideMs: number;
  maxEntries: number;
  now?: () => number;
}

/**
 * This replica's memory of the change events it has seen. It closes the races a
 * shared cache leaves open: a lookup that read a row just before a change must neither
 * write its answer back to Redis nor be believed, and a stale entry another replica
 * wrote must not be believed either.
 *
 * Changes are numbered. A lookup notes the number when it starts; if its entry changed
 * after that, its answer is not cached (`changedSince`). When the change log is full the
 * oldest number evicted becomes a floor every entry is assumed to have changed at: still
 * safe, only more lookups skip the cache for a moment.
 */
export class RecentChanges {
  private sequence = 0;
  private floor = 0;
  private readonly lastChange: ExpiringMap<string, number>;
  private readonly revokedKeyIds: ExpiringMap<string, true>;
  private readonly deletedChatbots: ExpiringMap<string, true>;
  private readonly planOverrides: ExpiringMap<string, Plan>;

  constructor(options: RecentChangesOptions) {
    const { maxEntries, now } = options;
    this.lastChange = new ExpiringMap({
      // Entries never need to expire by time: an old number only concerns lookups long finished.
      ttlMs: Number.POSITIVE_INFINITY,
      maxEntries,
      now,
      onEvict: (_entry, sequence) => (this.floor = Math.max(this.floor, sequence)),
    });
    this.revokedKeyIds = new ExpiringMap({ ttlMs: options.rememberMs, maxEntries, now });
    this.deletedChatbots = new ExpiringMap({ ttlMs: options.rememberMs, maxEntries, now });
    this.planOverrides = new ExpiringMap({ ttlMs: options.planOverrideMs, maxEntries, now });
  }

  /** The current change number; a lookup takes it before asking key-management. */
  current(): number {
    return this.sequence;
  }

  changedSince(kind: EntryKind, id: string, sequence: number): boolean {
    return (this.lastChange.get(`${kind}:${id}`) ?? this.floor) > sequence;
  }

  keyRevoked(keyId: string, keyHash: string): void {
    this.revokedKeyIds.set(keyId, true);
    this.touch('key', keyHash);
  }

  keyCreated(keyHash: string): void {
    this.touch('key', keyHash);
  }

  /** The key's record changed (its rate limit): a lookup that read the old row must not be cached. */
  keyUpdated(keyHash: string): void {
    this.touch('key', keyHash);
  }

  planChanged(accountId: string, plan: Plan): void {
    this.planOverrides.set(accountId, plan);
    this.touch('account', accountId);
  }

  chatbotDeleted(chatbotId: string): void {
    this.deletedChatbots.set(chatbotId, true);
    this.touch('chatbot', chatbotId);
  }

  isRevoked(keyId: string): boolean {
    return this.revokedKeyIds.has(keyId);
  }

  isChatbotDeleted(chatbotId: string): boolean {
    return this.deletedChatbots.has(chatbotId);
  }

  planOverride(accountId: string): Plan | undefined {
    return this.planOverrides.get(accountId);
  }

  private touch(kind: EntryKind, id: string): void {
    this.lastChange.set(`${kind}:${id}`, ++this.sequence);
  }
}
