import { Inject, Injectable } from '@nestjs/common';
import { BusHandlers, NatsBus } from '@app/common';
import { QueueGroups } from '@app/contracts';
import { ActorResolver } from '../access/actor-resolver.js';
import { ChatbotAccess } from '../access/chatbot-access.js';
import { AuditEventsService } from '../audit/audit-events.service.js';
import { KeysService } from '../keys/keys.service.js';

/** The management API, on behalf of the caller the gateway authenticated. */
@Injectable()
export class ManagementHandlers extends BusHandlers {
  constructor(
    @Inject(NatsBus) private readonly bus: NatsBus,
    @Inject(ActorResolver) private readonly actors: ActorResolver,
    @Inject(ChatbotAccess) private readonly chatbots: ChatbotAccess,
    @Inject(KeysService) private readonly keys: KeysService,
    @Inject(AuditEventsService) private readonly audit: AuditEventsService,
  ) {
    super();
  }

  protected subscribe() {
    const queue = QueueGroups.keyManagement;
    return [
      this.bus.serve('listChatbots', queue, async ({ actor, limit, cursor }) =>
        this.chatbots.list(await this.actors.resolve(actor), limit, cursor),
      ),
      this.bus.serve('createKey', queue, (request) => this.keys.create(request)),
      this.bus.serve('listKeys', queue, (request) => this.keys.list(request)),
      this.bus.serve('getKey', queue, (request) => this.keys.get(request)),
      this.bus.serve('renameKey', queue, (request) => this.keys.rename(request)),
      this.bus.serve('revokeKey', queue, (request) => this.keys.revoke(request)),
      this.bus.serve('updateKey', queue, (request) => this.keys.update(request)),
      this.bus.serve('rollKey', queue, (request) => this.keys.roll(request)),
      this.bus.serve('listAuditEvents', queue, (request) => this.audit.listForCaller(request)),
    ];
  }
}
