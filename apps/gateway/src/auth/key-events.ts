import type { Subscription } from '@nats-io/transport-node';
import type { NatsBus } from '@app/common';

/** What an event from key-management invalidates in the gateway's verify cache. */
export interface Invalidation {
  keyHash?: string;
  keyId?: string;
  accountId?: string;
  /** The key can never be valid again. */
  revoked?: boolean;
}

/**
 * Every gateway replica hears every key event (plain pub/sub). Account-wide changes (plan,
 * chatbot deletion, assignments) drop the whole account: they are rare and the next request refills it.
 */
export function subscribeToKeyEvents(bus: NatsBus, invalidate: (change: Invalidation) => void): Subscription[] {
  return [
    bus.on('keyRevoked', (e) => invalidate({ keyHash: e.keyHash, keyId: e.keyId, revoked: true })),
    // A key answered "unknown" a moment ago may exist now (a legacy import): forget that answer.
    bus.on('keyCreated', (e) => invalidate({ keyHash: e.keyHash, keyId: e.keyId })),
    bus.on('keyRenamed', (e) => invalidate({ keyId: e.keyId })),
    // The verify answer carries the key's rate limit: the next request asks again and gets the new one.
    bus.on('keyUpdated', (e) => invalidate({ keyHash: e.keyHash, keyId: e.keyId })),
    bus.on('planChanged', (e) => invalidate({ accountId: e.accountId })),
    bus.on('chatbotDeleted', (e) => invalidate({ accountId: e.accountId })),
    bus.on('assignmentsChanged', (e) => invalidate({ accountId: e.accountId })),
  ];
}
