import { Inject, Injectable } from '@nestjs/common';
import { BusHandlers, NatsBus } from '@app/common';
import { QueueGroups } from '@app/contracts';
import { LookupService } from './lookup.service.js';

/** The auth-verifier's cache misses. */
@Injectable()
export class LookupHandlers extends BusHandlers {
  constructor(
    @Inject(NatsBus) private readonly bus: NatsBus,
    @Inject(LookupService) private readonly lookup: LookupService,
  ) {
    super();
  }

  protected subscribe() {
    const queue = QueueGroups.keyManagement;
    return [
      this.bus.serve('lookupKey', queue, ({ keyHash }) => this.lookup.key(keyHash)),
      this.bus.serve('lookupAccount', queue, ({ accountId }) => this.lookup.account(accountId)),
      this.bus.serve('lookupChatbot', queue, ({ chatbotId }) => this.lookup.chatbot(chatbotId)),
    ];
  }
}
