import { Inject, Injectable } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import { KEY_EVENTS_STEM, Subjects, type KeyEventSubject } from '@app/contracts';
import { NatsBus, type EventHandler } from '../nats-bus.js';
import { keyEventsMissed } from './key-event-metrics.js';
import { KeyEventSequence, readMark, type MissedEventsReason } from './key-event-sequence.js';

export type KeyEventHandlers = { [S in KeyEventSubject]?: EventHandler<S> };
export type MissedEventsHandler = (reason: MissedEventsReason) => void;

/** Key event subjects by their wire name, for the one subscription that takes them all. */
const KEY_EVENT_NAMES = new Map<string, KeyEventSubject | 'keyEventsHeartbeat'>(
  Object.entries(Subjects)
    .filter(([, subject]) => subject.startsWith(`${KEY_EVENTS_STEM}.`))
    .map(([name, subject]) => [subject, name as KeyEventSubject | 'keyEventsHeartbeat']),
);

/** What a gateway or verifier replica hears of key-management's changes (`KeyEventPublisher`). */
@Injectable()
export class KeyEventSubscriber {
  constructor(@Inject(NatsBus) private readonly bus: NatsBus) {}

  /**
   * Every key event, on one subscription (so in the order each publisher sent them), to its
   * handler; kinds without a handler still count for the numbering. `onMissed` is called, before
   * the next event is handled, whenever events may have been lost: a reconnect (events published
   * while the connection was down never arrive), a slow-consumer notice, or a skipped number.
   * The caller then stops trusting everything it cached before.
   */
  subscribe(handlers: KeyEventHandlers, onMissed: MissedEventsHandler): Subscription {
    const sequence = new KeyEventSequence(Date.now());
    const missed = (reason: MissedEventsReason) => {
      keyEventsMissed.inc({ reason });
      this.bus.logger.warn({ reason }, 'key events may have been missed: cached answers dropped');
      onMissed(reason);
    };
    const stopWatching = this.bus.onDeliveryGap((reason) => {
      if (reason === 'reconnect') sequence.restart(Date.now());
      missed(reason);
    });
    const subscription = this.bus.subscribeUnder(KEY_EVENTS_STEM, (subject, msg) => {
      const name = KEY_EVENT_NAMES.get(subject);
      const mark = msg.headers ? readMark((header) => msg.headers!.get(header)) : null;
      if (mark && sequence.observe(mark, name === 'keyEventsHeartbeat')) missed('gap');
      if (name === undefined || name === 'keyEventsHeartbeat') return;
      const handler = handlers[name] as EventHandler<typeof name> | undefined;
      if (handler) this.bus.deliver(name, msg, handler);
    });
    void subscription.closed.finally(stopWatching);
    return subscription;
  }
}
