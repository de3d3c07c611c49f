import { Inject, Injectable } from '@nestjs/common';
import type { EventMap, EventSubject } from '@app/contracts';
import { NatsBus } from '@app/common';
import { eventPublishFailures, eventsPublished } from './event-metrics.js';

/**
 * Tells every gateway and verifier replica about a committed change. Callers publish
 * only after their transaction has committed, so no replica acts on a change that
 * was rolled back.
 */
@Injectable()
export class EventPublisher {
  constructor(@Inject(NatsBus) private readonly bus: NatsBus) {}

  publish<S extends EventSubject>(subject: S, event: EventMap[S]): void {
    try {
      this.bus.publish(subject, event);
    } catch (error) {
      eventPublishFailures.inc({ event: subject });
      throw error;
    }
    eventsPublished.inc({ event: subject });
  }
}
