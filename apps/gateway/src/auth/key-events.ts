import type { Subscription } from '@nats-io/transport-node';
import type { KeyEventSubscriber, MissedEventsReason } from '@app/common';
import { keyHashFromHex } from './key-hash.js';

/** What an event from key-management invalidates in the gateway's verify cache. */
export interface Invalidation {
  /** In the gateway's in-memory form (`keyHashOf`). */
  keyHash?: string;
  keyId?: string;
  accountId?: string;
  chatbotId?: string;
  /** The key can never be valid again. */
  revoked?: boolean;
}

/**
 * Every gateway replica hears every key event (plain pub/sub, one subscription for all kinds).
 * Account-wide changes (plan, chatbot deletion, assignments) drop the whole account: they are rare
 * and the next request refills it. When events may have been missed, `onMissed` drops everything.
 */
export function subscribeToKeyEvents(
  keyEvents: KeyEventSubscriber,
  invalidate: (change: Invalidation) => void,
  onMissed: (reason: MissedEventsReason) => void,
): Subscription[] {
  return [
    keyEvents.subscribe(
      {
        keyRevoked: (e) => invalidate({ keyHash: keyHashFromHex(e.keyHash), keyId: e.keyId, revoked: true }),
        // A key answered "unknown" a moment ago may exist now (a legacy import): forget that answer.
        keyCreated: (e) => invalidate({ keyHash: keyHashFromHex(e.keyHash), keyId: e.keyId }),
        keyRenamed: (e) => invalidate({ keyId: e.keyId }),
        // Disabled or enabled, expiry, allow-list, rate limit or a roll's grace end changed: ask again.
        keyUpdated: (e) => invalidate({ keyHash: keyHashFromHex(e.keyHash), keyId: e.keyId }),
        planChanged: (e) => invalidate({ accountId: e.accountId }),
        chatbotDeleted: (e) => invalidate({ accountId: e.accountId, chatbotId: e.chatbotId }),
        assignmentsChanged: (e) => invalidate({ accountId: e.accountId }),
      },
      onMissed,
    ),
  ];
}
