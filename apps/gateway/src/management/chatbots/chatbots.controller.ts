import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Actor, Page } from '@app/contracts';
import { KeyManagementClient } from '../../key-management/key-management.client.js';
import { CurrentActor } from '../caller/current-actor.decorator.js';
import { ManagementAuthGuard } from '../caller/management-auth.guard.js';
import { ZodPipe } from '../../http/validation/zod-body.pipe.js';
import { ApiErrors, MANAGEMENT_AUTH_ERRORS } from '../../openapi/api-errors.js';
import { ApiQueryFrom } from '../../openapi/api-query.js';
import { ref } from '../../openapi/api-schemas.js';
import { ListChatbotsQuerySchema, type ListChatbotsQuery } from './list-chatbots.query.js';

/** The chatbots the caller reaches: all of the account's for owners and admins, the assigned ones for members. */
@ApiTags('chatbots')
@ApiBearerAuth('userKeyOrSsoToken')
@Controller('v1/chatbots')
@UseGuards(ManagementAuthGuard)
export class ChatbotsController {
  constructor(@Inject(KeyManagementClient) private readonly keyManagement: KeyManagementClient) {}

  @Get()
  @ApiOperation({
    summary: 'List the chatbots the caller reaches',
    description: 'Owners and admins: every chatbot of the account; members: the chatbots assigned to them.',
  })
  @ApiQueryFrom(ListChatbotsQuerySchema, { limit: 'Chatbots per page.', cursor: 'The `nextCursor` of the previous page.' })
  @ApiResponse({ status: 200, description: 'A page of chatbots.', schema: ref('ChatbotPage') })
  @ApiErrors(...MANAGEMENT_AUTH_ERRORS, 'invalid_request')
  list(
    @CurrentActor() actor: Actor,
    @Query(new ZodPipe(ListChatbotsQuerySchema)) query: ListChatbotsQuery,
  ): Promise<Page<{ id: string; name: string }>> {
    return this.keyManagement.request('listChatbots', { actor, limit: query.limit, cursor: query.cursor });
  }
}
