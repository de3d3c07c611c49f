import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { headers } from '@nats-io/transport-node';
import type { EventMap, KeyEventSubject } from '@app/contracts';
import { NatsBus } from '../nats-bus.js';
import { KeyEventHeaders } from './key-event-sequence.js';

/**
 * Publishes key events for every gateway and verifier replica, numbered: a replica that sees a
 * number skipped knows it missed an event (see `KeyEventSubscriber`). Whatever the kind, the same
 * numbering. One per process: each publisher numbers its own events from 1.
 */
@Injectable()
export class KeyEventPublisher {
  private readonly publisherId = randomUUID();
  private readonly startedAt = Date.now();
  private published = 0;

  constructor(@Inject(NatsBus) private readonly bus: NatsBus) {}

  publish<S extends KeyEventSubject>(subject: S, event: EventMap[S]): void {
    this.bus.publish(subject, event, this.mark(this.published + 1));
    this.published++;
  }

  /**
   * Announces this publisher's last event number every `intervalMs`: a replica that missed the
   * last event before a quiet spell learns it within that time. Returns the stop function.
   */
  startHeartbeat(intervalMs: number): () => void {
    const timer = setInterval(() => {
      if (!this.bus.connected) return;
      try {
        this.bus.publish('keyEventsHeartbeat', {}, this.mark(this.published));
      } catch (error) {
        this.bus.logger.warn({ err: error }, 'key event heartbeat not sent');
      }
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private mark(sequence: number) {
    const mark = headers();
    mark.set(KeyEventHeaders.publisher, this.publisherId);
    mark.set(KeyEventHeaders.sequence, String(sequence));
    mark.set(KeyEventHeaders.started, String(this.startedAt));
    return mark;
  }
}
