import { Body, Controller, Header, Inject, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { ChangeOrigin, KeyView, UserView, CreatedKeyView } from '@app/contracts';
import { KeyManagementClient } from '../key-management/key-management.client.js';
import { ChangeOriginOf } from '../http/change-origin.decorator.js';
import { CreateKeyBodySchema, type CreateKeyBody } from '../keys/key-bodies.js';
import { ResourceIdPipe } from '../http/validation/resource-id.pipe.js';
import { ZodPipe } from '../http/validation/zod-body.pipe.js';
import { AdminService } from './admin.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import { ADMIN_AUTH_ERRORS, ApiErrors } from '../openapi/api-errors.js';
import { fromZod, ref } from '../openapi/api-schemas.js';
import {
  ImportLegacyKeyBodySchema,
  SetUserChatbotsBodySchema,
  type ImportLegacyKeyBody,
  type SetUserChatbotsBody,
} from './dto/admin-bodies.js';

const userId = new ResourceIdPipe('user_not_found');

/** A user's chatbot assignments and keys (user-level keys belong to owners and admins only). */
@ApiTags('admin')
@ApiBearerAuth('adminToken')
@ApiParam({ name: 'userId', description: 'A user.' })
@Controller('admin/v1/users/:userId')
@UseGuards(AdminTokenGuard)
export class AdminUsersController {
  constructor(
    @Inject(KeyManagementClient) private readonly keyManagement: KeyManagementClient,
    @Inject(AdminService) private readonly admin: AdminService,
  ) {}

  @Put('chatbots')
  @ApiOperation({ summary: "Replace a user's chatbot assignments", description: 'Takes effect within a second.' })
  @ApiBody({ schema: fromZod(SetUserChatbotsBodySchema), description: "Chatbots of the user's account." })
  @ApiResponse({ status: 200, description: 'The user.', schema: ref('User') })
  @ApiErrors(...ADMIN_AUTH_ERRORS, 'invalid_request', 'payload_too_large', 'user_not_found', 'chatbot_not_found')
  setChatbots(
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('userId', userId) user: string,
    @Body(new ZodPipe(SetUserChatbotsBodySchema)) body: SetUserChatbotsBody,
  ): Promise<UserView> {
    return this.keyManagement.request('adminSetUserChatbots', { userId: user, chatbotIds: body.chatbotIds, origin });
  }

  @Post('api-keys')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Create a user-level key for a user',
    description: 'Owner and admin users only. The key is shown in this answer only.',
  })
  @ApiBody({
    required: false,
    schema: fromZod(CreateKeyBodySchema),
    description: 'The name is trimmed to 1–64 characters; default "Untitled key".',
  })
  @ApiResponse({
    status: 201,
    description: 'The key object plus the key itself; sent with `Cache-Control: no-store`.',
    schema: ref('CreatedKey'),
  })
  @ApiErrors(...ADMIN_AUTH_ERRORS, 'invalid_request', 'payload_too_large', 'user_not_found', 'forbidden')
  createKey(
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('userId', userId) user: string,
    @Body(new ZodPipe(CreateKeyBodySchema)) body: CreateKeyBody,
  ): Promise<CreatedKeyView> {
    return this.admin.createUserKey(user, origin, body?.name);
  }

  @Post('legacy-keys')
  @ApiOperation({
    summary: 'Import an existing user-level key',
    description:
      'The key keeps working unchanged. Send `{"key"}` (20–256 printable ASCII characters without spaces; the gateway hashes it and keeps only the hash) or `{"sha256"}` (its SHA-256, hex). Owner and admin users only.',
  })
  @ApiBody({ schema: fromZod(ImportLegacyKeyBodySchema) })
  @ApiResponse({ status: 201, description: 'The key object (never the key).', schema: ref('Key') })
  @ApiErrors(...ADMIN_AUTH_ERRORS, 'invalid_request', 'payload_too_large', 'user_not_found', 'forbidden', 'conflict')
  importLegacyKey(
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('userId', userId) user: string,
    @Body(new ZodPipe(ImportLegacyKeyBodySchema)) body: ImportLegacyKeyBody,
  ): Promise<KeyView> {
    return this.admin.importLegacyKey(user, origin, body);
  }
}
