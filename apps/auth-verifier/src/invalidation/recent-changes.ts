import type { Plan } from '@app/contracts';
import { ExpiringMap } from '@app/common';

/** What the verifier caches: a key record by key hash, a plan by account id, an owner by chatbot id. */
export type EntryKind = 'key' | 'account' | 'chatbot';

export interface RecentChangesOptions {
  /** How long revocations and chatbot deletions are remembered: longer than any cache entry lives. */
  rememberMs: number;
  /** How long a plan change overrides what Redis or an in-flight lookup says. */
  planOverrideMs: number;
  maxEntries: number;
  /**
   * How long after a key's update (enabled, expiry, allow-list, a roll's grace) its Redis entry
   * is not believed: another replica that has not seen the event yet may write the old record back.
   */
  settleMs?: number;
  now?: () => number;
}

export const KEY_UPDATE_SETTLE_MS = 2_000;

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
  /** Every lookup started before this number is treated as overtaken (events may have been missed). */
  private distrustedAt = 0;
  private readonly lastChange: ExpiringMap<string, number>;
  private readonly revokedKeyIds: ExpiringMap<string, true>;
  private readonly deletedChatbots: ExpiringMap<string, true>;
  private readonly planOverrides: ExpiringMap<string, Plan>;
  private readonly updatedKeyHashes: ExpiringMap<string, true>;

  constructor(options: RecentChangesOptions) {
    const { maxEntries, now } = options;
    this.lastChange = new ExpiringMap({
      // Entries never need to expire by time: an old number only concerns lookups long finished.
      ttlMs: Number.POSITIVE_INFINITY,
      maxEntries,
      now,
      onRemove: (_entry, sequence, reason) => {
        if (reason === 'evicted') this.floor = Math.max(this.floor, sequence);
      },
    });
    this.revokedKeyIds = new ExpiringMap({ ttlMs: options.rememberMs, maxEntries, now });
    this.deletedChatbots = new ExpiringMap({ ttlMs: options.rememberMs, maxEntries, now });
    this.planOverrides = new ExpiringMap({ ttlMs: options.planOverrideMs, maxEntries, now });
    this.updatedKeyHashes = new ExpiringMap({ ttlMs: options.settleMs ?? KEY_UPDATE_SETTLE_MS, maxEntries, now });
  }

  /** The current change number; a lookup takes it before asking key-management. */
  current(): number {
    return this.sequence;
  }

  changedSince(kind: EntryKind, id: string, sequence: number): boolean {
    return Math.max(this.lastChange.peek(`${kind}:${id}`) ?? this.floor, this.distrustedAt) > sequence;
  }

  /** Events may have been missed: no lookup started before now is written back or shared, no plan override holds. */
  distrustAll(): void {
    this.distrustedAt = ++this.sequence;
    this.planOverrides.clear();
  }

  keyRevoked(keyId: string, keyHash: string): void {
    this.revokedKeyIds.set(keyId, true);
    this.touch('key', keyHash);
  }

  keyCreated(keyHash: string): void {
    this.touch('key', keyHash);
  }

  /** Disabled or enabled, expiry, allow-list or rate limit changed, or a roll set its end. */
  keyUpdated(keyHash: string): void {
    this.updatedKeyHashes.set(keyHash, true);
    this.touch('key', keyHash);
  }

  /** Just updated: ask key-management, whatever Redis holds. */
  isKeyUnsettled(keyHash: string): boolean {
    return this.updatedKeyHashes.has(keyHash);
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
    return this.planOverrides.peek(accountId);
  }

  private touch(kind: EntryKind, id: string): void {
    this.lastChange.set(`${kind}:${id}`, ++this.sequence);
  }
}
