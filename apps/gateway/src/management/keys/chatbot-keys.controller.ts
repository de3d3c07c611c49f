import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Actor, ChangeOrigin, KeyView, UsageSeries, CreatedKeyView } from '@app/contracts';
import { ChangeOriginOf } from '../../http/change-origin.decorator.js';
import { ApiErrors, MANAGEMENT_AUTH_ERRORS } from '../../openapi/api-errors.js';
import { ApiQueryFrom } from '../../openapi/api-query.js';
import { fromZod, ref } from '../../openapi/api-schemas.js';
import { USAGE_QUERY_DESCRIPTIONS } from '../../openapi/api-descriptions.js';
import { CurrentActor } from '../caller/current-actor.decorator.js';
import { ManagementAuthGuard } from '../caller/management-auth.guard.js';
import { ResourceIdPipe } from '../../http/validation/resource-id.pipe.js';
import { ZodPipe } from '../../http/validation/zod-body.pipe.js';
import {
  CreateKeyBodySchema,
  RollKeyBodySchema,
  UpdateKeyBodySchema,
  type CreateKeyBody,
  type RollKeyBody,
  type UpdateKeyBody,
} from '../../keys/key-bodies.js';
import { KeyUsageService } from '../usage/key-usage.service.js';
import { UsageQueryParamsSchema, type UsageQueryParams } from '../usage/usage-query.js';
import { ManagementKeysService } from './management-keys.service.js';
import { ApiRollKey, ApiUpdateKey } from './key-route-docs.js';

const CHATBOT_KEY_DOCS = { noun: 'a chatbot key', who: '', keyId: 'An active key of the chatbot.' };
const chatbotId = new ResourceIdPipe('chatbot_not_found');
const keyId = new ResourceIdPipe('key_not_found');

/** Chatbot keys: each reaches exactly one chatbot. */
@ApiTags('chatbot keys')
@ApiBearerAuth('userKeyOrSsoToken')
@ApiParam({ name: 'chatbotId', description: 'A chatbot the caller reaches (others are `404 chatbot_not_found`).' })
@Controller('v1/chatbots/:chatbotId/api-keys')
@UseGuards(ManagementAuthGuard)
export class ChatbotKeysController {
  constructor(
    @Inject(ManagementKeysService) private readonly keys: ManagementKeysService,
    @Inject(KeyUsageService) private readonly usage: KeyUsageService,
  ) {}

  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Create a chatbot key',
    description:
      'At most 10 active keys per chatbot; needs plan `entry`, `standard` or `professional`. The key is shown in this answer only.',
  })
  @ApiBody({
    required: false,
    schema: fromZod(CreateKeyBodySchema),
    description:
      'The name is trimmed to 1–64 characters; default "Untitled key". `expiresAt` must lie in the future; `allowedIps` takes 1–100 IPv4/IPv6 addresses or CIDRs, stored canonical. `rateLimit`: at most `requests` (1–1,000,000) forwarded per `windowSeconds` (1–86,400), across every gateway replica; absent or null: none.',
  })
  @ApiResponse({
    status: 201,
    description: 'The key object plus the key itself; sent with `Cache-Control: no-store`.',
    schema: ref('CreatedKey'),
  })
  @ApiErrors(
    ...MANAGEMENT_AUTH_ERRORS,
    'invalid_request',
    'payload_too_large',
    'chatbot_not_found',
    'plan_not_eligible',
    'key_limit_reached',
  )
  create(
    @CurrentActor() actor: Actor,
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('chatbotId', chatbotId) chatbot: string,
    @Body(new ZodPipe(CreateKeyBodySchema)) body: CreateKeyBody,
  ): Promise<CreatedKeyView> {
    return this.keys.create(actor, origin, chatbot, body);
  }

  @Get()
  @ApiOperation({
    summary: "List a chatbot's keys",
    description:
      'Every key not revoked, newest first: active, disabled and expired ones (see `status`), and a rolled key until its grace period ends.',
  })
  @ApiResponse({ status: 200, description: 'The active keys of the chatbot.', schema: ref('KeyList') })
  @ApiErrors(...MANAGEMENT_AUTH_ERRORS, 'chatbot_not_found')
  list(@CurrentActor() actor: Actor, @Param('chatbotId', chatbotId) chatbot: string): Promise<{ data: KeyView[] }> {
    return this.keys.list(actor, chatbot);
  }

  @Patch(':keyId')
  @ApiUpdateKey({ ...CHATBOT_KEY_DOCS, errors: ['invalid_request', 'payload_too_large', 'chatbot_not_found', 'key_not_found'] })
  update(
    @CurrentActor() actor: Actor,
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('chatbotId', chatbotId) chatbot: string,
    @Param('keyId', keyId) key: string,
    @Body(new ZodPipe(UpdateKeyBodySchema)) body: UpdateKeyBody,
  ): Promise<KeyView> {
    return this.keys.update(actor, origin, chatbot, key, body);
  }

  @Post(':keyId/roll')
  @ApiRollKey({
    ...CHATBOT_KEY_DOCS,
    errors: ['invalid_request', 'payload_too_large', 'chatbot_not_found', 'plan_not_eligible', 'key_not_found', 'key_expired', 'conflict'],
  })
  roll(
    @CurrentActor() actor: Actor,
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('chatbotId', chatbotId) chatbot: string,
    @Param('keyId', keyId) key: string,
    @Body(new ZodPipe(RollKeyBodySchema)) body: RollKeyBody,
  ): Promise<CreatedKeyView> {
    return this.keys.roll(actor, origin, chatbot, key, body?.gracePeriodSeconds);
  }

  @Delete(':keyId')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke a chatbot key',
    description: 'Every gateway and verifier refuses it within a second. Revoking it again: `404 key_not_found`.',
  })
  @ApiParam({ name: 'keyId', description: 'An active key of the chatbot.' })
  @ApiResponse({ status: 204, description: 'Revoked.' })
  @ApiErrors(...MANAGEMENT_AUTH_ERRORS, 'chatbot_not_found', 'key_not_found')
  revoke(
    @CurrentActor() actor: Actor,
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('chatbotId', chatbotId) chatbot: string,
    @Param('keyId', keyId) key: string,
  ): Promise<void> {
    return this.keys.revoke(actor, origin, chatbot, key);
  }

  @Get(':keyId/usage')
  @ApiOperation({
    summary: "A chatbot key's uses over time",
    description: 'Counts per interval; a use is a request the gateway forwarded with the key.',
  })
  @ApiParam({ name: 'keyId', description: 'An active key of the chatbot.' })
  @ApiQueryFrom(UsageQueryParamsSchema, USAGE_QUERY_DESCRIPTIONS)
  @ApiResponse({ status: 200, description: 'The usage series and its total.', schema: ref('UsageSeries') })
  @ApiErrors(...MANAGEMENT_AUTH_ERRORS, 'invalid_request', 'chatbot_not_found', 'key_not_found')
  usageOf(
    @CurrentActor() actor: Actor,
    @Param('chatbotId', chatbotId) chatbot: string,
    @Param('keyId', keyId) key: string,
    @Query(new ZodPipe(UsageQueryParamsSchema)) query: UsageQueryParams,
  ): Promise<UsageSeries> {
    return this.usage.series(actor, chatbot, key, query);
  }
}
