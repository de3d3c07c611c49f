import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { KeyManagementModule } from '../key-management/key-management.module.js';
import { SsoModule } from '../sso/sso.module.js';
import { UsageTrackerClient } from '../usage/usage-tracker.client.js';
import { ManagementAuthGuard } from './caller/management-auth.guard.js';
import { AuditEventsController } from './audit/audit-events.controller.js';
import { ChatbotsController } from './chatbots/chatbots.controller.js';
import { ChatbotKeysController } from './keys/chatbot-keys.controller.js';
import { ManagementKeysService } from './keys/management-keys.service.js';
import { UserKeysController } from './keys/user-keys.controller.js';
import { KeyUsageService } from './usage/key-usage.service.js';

/** The management API under `/v1` (docs/api.md, Management API): keys, chatbots and key usage. */
@Module({
  imports: [AuthModule, SsoModule, KeyManagementModule],
  controllers: [ChatbotsController, ChatbotKeysController, UserKeysController, AuditEventsController],
  providers: [ManagementAuthGuard, ManagementKeysService, KeyUsageService, UsageTrackerClient],
})
export class ManagementModule {}
