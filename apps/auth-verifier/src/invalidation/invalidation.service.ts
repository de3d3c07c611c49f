import type { ChatbotDeletedEvent, KeyCreatedEvent, KeyRevokedEvent, KeyUpdatedEvent, PlanChangedEvent } from '@app/contracts';
import type { AuthCacheRepository } from '../cache/auth-cache.repository.js';
import type { RecentChanges } from './recent-changes.js';

export type InvalidatedCache = Pick<AuthCacheRepository, 'forgetKeyRecord' | 'storePlanChange' | 'storeChatbotDeleted' | 'distrustAll'>;

/**
 * Applies key-management's change events to this replica's memory first (which every
 * verify consults, and which Redis being down cannot lose), then to the shared Redis cache.
 */
export class InvalidationService {
  constructor(
    private readonly changes: RecentChanges,
    private readonly cache: InvalidatedCache,
  ) {}

  /** Refused from now on, even if a lookup in flight or another replica still holds the record. */
  keyRevoked(event: KeyRevokedEvent): void {
    this.changes.keyRevoked(event.keyId, event.keyHash);
    this.cache.forgetKeyRecord(event.keyHash);
  }

  /**
   * Only a negative entry can exist for a new key's hash (someone presented it before it
   * existed): dropping the entry whatever it holds is therefore the same thing, and atomic.
   */
  keyCreated(event: KeyCreatedEvent): void {
    this.changes.keyCreated(event.keyHash);
    this.cache.forgetKeyRecord(event.keyHash);
  }

  /**
   * Reversible changes (enable, disable, expiry, allow-list, rate limit, a roll's grace end): the key is read
   * again from key-management, and for a moment Redis is not believed for it (see RecentChanges).
   */
  keyUpdated(event: KeyUpdatedEvent): void {
    this.changes.keyUpdated(event.keyHash);
    this.cache.forgetKeyRecord(event.keyHash);
  }

  planChanged(event: PlanChangedEvent): void {
    this.changes.planChanged(event.accountId, event.plan);
    this.cache.storePlanChange(event.accountId, event.plan);
  }

  /**
   * Events may have been missed (a reconnect, a skipped number): what this replica remembers that
   * could allow more than the truth (plan overrides) is forgotten, lookups in flight write nothing,
   * and every Redis entry written before now is left behind (a new generation of entries).
   * What only refuses (revoked keys, deleted chatbots) is kept.
   */
  eventsMissed(): void {
    this.changes.distrustAll();
    this.cache.distrustAll();
  }

  /** Its keys are revoked by key-management too; this also covers their records cached before. */
  chatbotDeleted(event: ChatbotDeletedEvent): void {
    this.changes.chatbotDeleted(event.chatbotId);
    this.cache.storeChatbotDeleted(event.chatbotId);
  }
}
