import type { ChatbotDeletedEvent, KeyCreatedEvent, KeyRevokedEvent, KeyUpdatedEvent, PlanChangedEvent } from '@app/contracts';
import type { AuthCacheRepository } from '../cache/auth-cache.repository.js';
import type { RecentChanges } from './recent-changes.js';

export type InvalidatedCache = Pick<AuthCacheRepository, 'forgetKeyRecord' | 'storePlanChange' | 'storeChatbotDeleted'>;

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

  /** The record carries the key's rate limit: the next verify reads the changed row. */
  keyUpdated(event: KeyUpdatedEvent): void {
    this.changes.keyUpdated(event.keyHash);
    this.cache.forgetKeyRecord(event.keyHash);
  }

  planChanged(event: PlanChangedEvent): void {
    this.changes.planChanged(event.accountId, event.plan);
    this.cache.storePlanChange(event.accountId, event.plan);
  }

  /** Its keys are revoked by key-management too; this also covers their records cached before. */
  chatbotDeleted(event: ChatbotDeletedEvent): void {
    this.changes.chatbotDeleted(event.chatbotId);
    this.cache.storeChatbotDeleted(event.chatbotId);
  }
}
