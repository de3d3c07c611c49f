import { Inject, Injectable } from '@nestjs/common';
import { BusHandlers, NatsBus } from '@app/common';
import { QueueGroups } from '@app/contracts';
import { AccountsService } from '../accounts/accounts.service.js';
import { ChatbotsService } from '../chatbots/chatbots.service.js';
import { AuditEventsService } from '../audit/audit-events.service.js';
import { LeakedKeysService } from '../keys/leaked-keys.service.js';
import { UserKeysService } from '../keys/user-keys.service.js';
import { UsersService } from '../users/users.service.js';

/** The admin API, as the gateway forwards it after checking ADMIN_TOKEN. */
@Injectable()
export class AdminHandlers extends BusHandlers {
  constructor(
    @Inject(NatsBus) private readonly bus: NatsBus,
    @Inject(AccountsService) private readonly accounts: AccountsService,
    @Inject(ChatbotsService) private readonly chatbots: ChatbotsService,
    @Inject(UsersService) private readonly users: UsersService,
    @Inject(UserKeysService) private readonly userKeys: UserKeysService,
    @Inject(AuditEventsService) private readonly audit: AuditEventsService,
    @Inject(LeakedKeysService) private readonly leaks: LeakedKeysService,
  ) {
    super();
  }

  protected subscribe() {
    const queue = QueueGroups.keyManagement;
    return [
      this.bus.serve('adminCreateAccount', queue, (request) => this.accounts.create(request)),
      this.bus.serve('adminUpdateAccount', queue, (request) => this.accounts.update(request)),
      this.bus.serve('adminCreateChatbot', queue, (request) => this.chatbots.create(request)),
      this.bus.serve('adminDeleteChatbot', queue, (request) => this.chatbots.delete(request)),
      this.bus.serve('adminCreateUser', queue, (request) => this.users.create(request)),
      this.bus.serve('adminSetUserChatbots', queue, (request) => this.users.setChatbots(request)),
      this.bus.serve('adminCreateUserKey', queue, (request) => this.userKeys.create(request)),
      this.bus.serve('adminImportLegacyKey', queue, (request) => this.userKeys.importLegacy(request)),
      this.bus.serve('adminListAuditEvents', queue, (request) => this.audit.listForAdmin(request)),
      this.bus.serve('reportLeakedKeys', queue, (request) => this.leaks.report(request)),
    ];
  }
}
