import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { EventMap, KeyEventSubject } from '@app/contracts';
import { KeyEventPublisher } from '@app/common';
import { eventPublishFailures, eventsPublished } from './event-metrics.js';

/** How often each replica announces its last event number; a replica that missed an event knows within this. */
const HEARTBEAT_MS = 1_000;

/**
 * Tells every gateway and verifier replica about a committed change. Callers publish
 * only after their transaction has committed, so no replica acts on a change that
 * was rolled back. Events are numbered (with a heartbeat carrying the last number), so a
 * replica that missed one stops trusting its caches.
 */
@Injectable()
export class EventPublisher implements OnModuleInit, OnModuleDestroy {
  private stopHeartbeat: () => void = () => undefined;

  constructor(@Inject(KeyEventPublisher) private readonly keyEvents: KeyEventPublisher) {}

  onModuleInit(): void {
    this.stopHeartbeat = this.keyEvents.startHeartbeat(HEARTBEAT_MS);
  }

  onModuleDestroy(): void {
    this.stopHeartbeat();
  }

  publish<S extends KeyEventSubject>(subject: S, event: EventMap[S]): void {
    try {
      this.keyEvents.publish(subject, event);
    } catch (error) {
      eventPublishFailures.inc({ event: subject });
      throw error;
    }
    eventsPublished.inc({ event: subject });
  }
}
