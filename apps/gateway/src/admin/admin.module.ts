import { Module } from '@nestjs/common';
import { KeyManagementModule } from '../key-management/key-management.module.js';
import { AdminAccountsController } from './admin-accounts.controller.js';
import { AdminAuditController } from './admin-audit.controller.js';
import { AdminChatbotsController } from './admin-chatbots.controller.js';
import { AdminService } from './admin.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import { AdminUsersController } from './admin-users.controller.js';

/** The provisioning API under `/admin/v1` (docs/api.md, Admin API), for the platform that owns accounts. */
@Module({
  imports: [KeyManagementModule],
  controllers: [AdminAccountsController, AdminChatbotsController, AdminUsersController, AdminAuditController],
  providers: [AdminTokenGuard, AdminService],
})
export class AdminModule {}
