import { BusHandlers, KeyEventSubscriber, type NatsBus } from '@app/common';
import type { InvalidationService } from './invalidation.service.js';

/**
 * Subscribes to key-management's change events without a queue group: every verifier
 * replica gets every event, since each keeps its own memory of recent changes. All kinds come on
 * one subscription, numbered, so that a missed one is noticed (kinds not handled here included).
 *
 * Not subscribed, because no verify answer depends on them today:
 * - keyRenamed: a key's name is never part of a verify answer;
 * - assignmentsChanged: assignments limit what a member sees in the management API,
 *   which key-management checks on every call; a user-level key reaches every chatbot
 *   of its account whatever its holder's assignments (docs/api.md, Concepts).
 * Should the reply ever carry either, subscribe here and drop the affected entries.
 */
export class InvalidationListener extends BusHandlers {
  constructor(
    private readonly bus: NatsBus,
    private readonly invalidation: InvalidationService,
  ) {
    super();
  }

  protected subscribe() {
    const on = this.invalidation;
    const subscription = new KeyEventSubscriber(this.bus).subscribe(
      {
        keyRevoked: (event) => on.keyRevoked(event),
        keyCreated: (event) => on.keyCreated(event),
        keyUpdated: (event) => on.keyUpdated(event),
        planChanged: (event) => on.planChanged(event),
        chatbotDeleted: (event) => on.chatbotDeleted(event),
      },
      () => on.eventsMissed(),
    );
    return [subscription];
  }
}
