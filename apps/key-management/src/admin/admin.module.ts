import { Module } from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service.js';
import { ChatbotsService } from '../chatbots/chatbots.service.js';
import { ActorResolver } from '../access/actor-resolver.js';
import { AuditEventsService } from '../audit/audit-events.service.js';
import { LeakedKeysService } from '../keys/leaked-keys.service.js';
import { UserKeysService } from '../keys/user-keys.service.js';
import { UsersService } from '../users/users.service.js';
import { AdminHandlers } from './admin.handlers.js';

@Module({
  providers: [
    AccountsService,
    ChatbotsService,
    UsersService,
    UserKeysService,
    ActorResolver,
    AuditEventsService,
    LeakedKeysService,
    AdminHandlers,
  ],
})
export class AdminModule {}
