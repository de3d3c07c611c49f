import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import type { Actor, KeyView, UsageSeries } from '@app/contracts';
import { CurrentActor } from '../caller/current-actor.decorator.js';
import { ManagementAuthGuard } from '../caller/management-auth.guard.js';
import { ResourceIdPipe } from '../validation/resource-id.pipe.js';
import { ZodPipe } from '../validation/zod-body.pipe.js';
import { CreateKeyBodySchema, RenameKeyBodySchema, type CreateKeyBody, type RenameKeyBody } from './key-bodies.js';
import { KeyUsageService } from '../usage/key-usage.service.js';
import { UsageQueryParamsSchema, type UsageQueryParams } from '../usage/usage-query.js';
import { ManagementKeysService, type CreatedKey } from './management-keys.service.js';

const chatbotId = new ResourceIdPipe('chatbot_not_found');
const keyId = new ResourceIdPipe('key_not_found');

/** Chatbot keys: each reaches exactly one chatbot. */
@Controller('v1/chatbots/:chatbotId/api-keys')
@UseGuards(ManagementAuthGuard)
export class ChatbotKeysController {
  constructor(
    @Inject(ManagementKeysService) private readonly keys: ManagementKeysService,
    @Inject(KeyUsageService) private readonly usage: KeyUsageService,
  ) {}

  @Post()
  @Header('Cache-Control', 'no-store')
  create(
    @CurrentActor() actor: Actor,
    @Param('chatbotId', chatbotId) chatbot: string,
    @Body(new ZodPipe(CreateKeyBodySchema)) body: CreateKeyBody,
  ): Promise<CreatedKey> {
    return this.keys.create(actor, chatbot, body?.name);
  }

  @Get()
  list(@CurrentActor() actor: Actor, @Param('chatbotId', chatbotId) chatbot: string): Promise<{ data: KeyView[] }> {
    return this.keys.list(actor, chatbot);
  }

  @Patch(':keyId')
  rename(
    @CurrentActor() actor: Actor,
    @Param('chatbotId', chatbotId) chatbot: string,
    @Param('keyId', keyId) key: string,
    @Body(new ZodPipe(RenameKeyBodySchema)) body: RenameKeyBody,
  ): Promise<KeyView> {
    return this.keys.rename(actor, chatbot, key, body.name);
  }

  @Delete(':keyId')
  @HttpCode(204)
  revoke(
    @CurrentActor() actor: Actor,
    @Param('chatbotId', chatbotId) chatbot: string,
    @Param('keyId', keyId) key: string,
  ): Promise<void> {
    return this.keys.revoke(actor, chatbot, key);
  }

  @Get(':keyId/usage')
  usageOf(
    @CurrentActor() actor: Actor,
    @Param('chatbotId', chatbotId) chatbot: string,
    @Param('keyId', keyId) key: string,
    @Query(new ZodPipe(UsageQueryParamsSchema)) query: UsageQueryParams,
  ): Promise<UsageSeries> {
    return this.usage.series(actor, chatbot, key, query);
  }
}
