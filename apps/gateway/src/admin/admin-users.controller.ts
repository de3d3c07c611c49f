import { Body, Controller, Header, Inject, Param, Post, Put, UseGuards } from '@nestjs/common';
import { NatsBus } from '@app/common';
import type { KeyView, UserView } from '@app/contracts';
import { CreateKeyBodySchema, type CreateKeyBody } from '../management/keys/key-bodies.js';
import type { CreatedKey } from '../management/keys/management-keys.service.js';
import { ResourceIdPipe } from '../management/validation/resource-id.pipe.js';
import { ZodPipe } from '../management/validation/zod-body.pipe.js';
import { AdminService } from './admin.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import {
  ImportLegacyKeyBodySchema,
  SetUserChatbotsBodySchema,
  type ImportLegacyKeyBody,
  type SetUserChatbotsBody,
} from './dto/admin-bodies.js';

const userId = new ResourceIdPipe('user_not_found');

/** A user's chatbot assignments and keys (user-level keys belong to owners and admins only). */
@Controller('admin/v1/users/:userId')
@UseGuards(AdminTokenGuard)
export class AdminUsersController {
  constructor(
    @Inject(NatsBus) private readonly bus: NatsBus,
    @Inject(AdminService) private readonly admin: AdminService,
  ) {}

  @Put('chatbots')
  setChatbots(
    @Param('userId', userId) user: string,
    @Body(new ZodPipe(SetUserChatbotsBodySchema)) body: SetUserChatbotsBody,
  ): Promise<UserView> {
    return this.bus.request('adminSetUserChatbots', { userId: user, chatbotIds: body.chatbotIds });
  }

  @Post('api-keys')
  @Header('Cache-Control', 'no-store')
  createKey(@Param('userId', userId) user: string, @Body(new ZodPipe(CreateKeyBodySchema)) body: CreateKeyBody): Promise<CreatedKey> {
    return this.admin.createUserKey(user, body?.name);
  }

  @Post('legacy-keys')
  importLegacyKey(
    @Param('userId', userId) user: string,
    @Body(new ZodPipe(ImportLegacyKeyBodySchema)) body: ImportLegacyKeyBody,
  ): Promise<KeyView> {
    return this.admin.importLegacyKey(user, body);
  }
}
