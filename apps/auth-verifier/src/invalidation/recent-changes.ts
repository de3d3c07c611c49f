import type { Plan } from '@app/contracts';
import { ChangeLog, ExpiringMap } from '@app/common';

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
 * This replica's memory of the change events it has seen (a ChangeLog), with the verifier's
 * policies on top. It closes the races a shared cache leaves open: a lookup that read a row just
 * before a change must neither write its answer back to Redis nor be believed (`changedSince`),
 * a stale entry another replica wrote must not be believed either (revoked keys, deleted
 * chatbots, a key just updated), and a plan change beats what Redis says for a while.
 */
export class RecentChanges {
  private readonly log: ChangeLog<EntryKind, 'keyId' | 'chatbot'>;
  private readonly planOverrides: ExpiringMap<string, Plan>;

  constructor(options: RecentChangesOptions) {
    const { maxEntries, now, rememberMs } = options;
    this.log = new ChangeLog({
      maxEntries,
      now,
      settleMs: options.settleMs ?? KEY_UPDATE_SETTLE_MS,
      refusalMs: { keyId: rememberMs, chatbot: rememberMs },
    });
    this.planOverrides = new ExpiringMap({ ttlMs: options.planOverrideMs, maxEntries, now });
  }

  /** The current change number; a lookup takes it before asking key-management. */
  current(): number {
    return this.log.current();
  }

  changedSince(kind: EntryKind, id: string, sequence: number): boolean {
    return this.log.changedSince(kind, id, sequence);
  }

  /** Events may have been missed: no lookup started before now is written back or shared, no plan override holds. */
  distrustAll(): void {
    this.log.distrustAll();
    this.planOverrides.clear();
  }

  keyRevoked(keyId: string, keyHash: string): void {
    this.log.refuse('keyId', keyId);
    this.log.changed('key', keyHash);
  }

  keyCreated(keyHash: string): void {
    this.log.changed('key', keyHash);
  }

  /** Disabled or enabled, expiry, allow-list or rate limit changed, or a roll set its end. */
  keyUpdated(keyHash: string): void {
    this.log.changed('key', keyHash, { settle: true });
  }

  /** Just updated: ask key-management, whatever Redis holds. */
  isKeyUnsettled(keyHash: string): boolean {
    return this.log.isSettling('key', keyHash);
  }

  planChanged(accountId: string, plan: Plan): void {
    this.planOverrides.set(accountId, plan);
    this.log.changed('account', accountId);
  }

  chatbotDeleted(chatbotId: string): void {
    this.log.refuse('chatbot', chatbotId);
    this.log.changed('chatbot', chatbotId);
  }

  isRevoked(keyId: string): boolean {
    return this.log.refuses('keyId', keyId);
  }

  isChatbotDeleted(chatbotId: string): boolean {
    return this.log.refuses('chatbot', chatbotId);
  }

  planOverride(accountId: string): Plan | undefined {
    return this.planOverrides.peek(accountId);
  }
}
