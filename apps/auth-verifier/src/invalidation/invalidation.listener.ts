import type { OnModuleInit } from '@nestjs/common';
import type { NatsBus } from '@app/common';
import type { InvalidationService } from './invalidation.service.js';

/**
 * Subscribes to key-management's change events without a queue group: every verifier
 * replica gets every event, since each keeps its own memory of recent changes.
 *
 * Not subscribed, because no verify answer depends on them today:
 * - keyRenamed: a key's name is never part of a verify answer;
 * - assignmentsChanged: assignments limit what a member sees in the management API,
 *   which key-management checks on every call; a user-level key reaches every chatbot
 *   of its account whatever its holder's assignments (contract section 1).
 * Should the reply ever carry either, subscribe here and drop the affected entries.
 */
export class InvalidationListener implements OnModuleInit {
  constructor(
    private readonly bus: NatsBus,
    private readonly invalidation: InvalidationService,
  ) {}

  onModuleInit(): void {
    // The subscriptions end with the connection, which NatsModule drains at shutdown.
    const on = this.invalidation;
    this.bus.on('keyRevoked', (event) => on.keyRevoked(event));
    this.bus.on('keyCreated', (event) => on.keyCreated(event));
    this.bus.on('keyUpdated', (event) => on.keyUpdated(event));
    this.bus.on('planChanged', (event) => on.planChanged(event));
    this.bus.on('chatbotDeleted', (event) => on.chatbotDeleted(event));
  }
}
