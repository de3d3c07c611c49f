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

const USER_KEY_DOCS = {
  noun: 'a user-level key',
  who: 'Owners and admins only. ',
  keyId: "An active user-level key of the caller's account.",
};
const keyId = new ResourceIdPipe('key_not_found');

/** User-level keys: account-wide; only owners and admins may create them (key-management decides). */
@ApiTags('user-level keys')
@ApiBearerAuth('userKeyOrSsoToken')
@Controller('v1/api-keys')
@UseGuards(ManagementAuthGuard)
export class UserKeysController {
  constructor(
    @Inject(ManagementKeysService) private readonly keys: ManagementKeysService,
    @Inject(KeyUsageService) private readonly usage: KeyUsageService,
  ) {}

  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Create a user-level key for the caller',
    description: 'Owners and admins only. The key is shown in this answer only.',
  })
  @ApiBody({
    required: false,
    schema: fromZod(CreateKeyBodySchema),
    description:
      'The name is trimmed to 1–64 characters; default "Untitled key". `expiresAt` must lie in the future; `allowedIps` takes 1–100 IPv4/IPv6 addresses or CIDRs, stored canonical. `rateLimit`: at most `requests` (1–1,000,000) forwarded per `windowSeconds` (1–86,400), across every gateway replica; absent or null: none.',
  })
  @ApiResponse({
    status: 201,
    description: 'The key object (`type: "user"`, `chatbotId: null`) plus the key itself; sent with `Cache-Control: no-store`.',
    schema: ref('CreatedKey'),
  })
  @ApiErrors(...MANAGEMENT_AUTH_ERRORS, 'invalid_request', 'payload_too_large', 'forbidden')
  create(
    @CurrentActor() actor: Actor,
    @ChangeOriginOf() origin: ChangeOrigin,
    @Body(new ZodPipe(CreateKeyBodySchema)) body: CreateKeyBody,
  ): Promise<CreatedKeyView> {
    return this.keys.create(actor, origin, null, body);
  }

  @Get()
  @ApiOperation({
    summary: "List the account's user-level keys",
    description:
      'Owners and admins only. Every key not revoked, newest first: active, disabled and expired ones (see `status`), and a rolled key until its grace period ends.',
  })
  @ApiResponse({ status: 200, description: 'The active user-level keys of the account.', schema: ref('KeyList') })
  @ApiErrors(...MANAGEMENT_AUTH_ERRORS, 'forbidden')
  list(@CurrentActor() actor: Actor): Promise<{ data: KeyView[] }> {
    return this.keys.list(actor, null);
  }

  @Patch(':keyId')
  @ApiUpdateKey({ ...USER_KEY_DOCS, errors: ['invalid_request', 'payload_too_large', 'forbidden', 'key_not_found'] })
  update(
    @CurrentActor() actor: Actor,
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('keyId', keyId) key: string,
    @Body(new ZodPipe(UpdateKeyBodySchema)) body: UpdateKeyBody,
  ): Promise<KeyView> {
    return this.keys.update(actor, origin, null, key, body);
  }

  @Post(':keyId/roll')
  @ApiRollKey({
    ...USER_KEY_DOCS,
    errors: ['invalid_request', 'payload_too_large', 'forbidden', 'key_not_found', 'key_expired', 'conflict'],
  })
  roll(
    @CurrentActor() actor: Actor,
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('keyId', keyId) key: string,
    @Body(new ZodPipe(RollKeyBodySchema)) body: RollKeyBody,
  ): Promise<CreatedKeyView> {
    return this.keys.roll(actor, origin, null, key, body?.gracePeriodSeconds);
  }

  @Delete(':keyId')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke a user-level key',
    description: 'Owners and admins only. Every gateway and verifier refuses it within a second. Revoking it again: `404 key_not_found`.',
  })
  @ApiParam({ name: 'keyId', description: "An active user-level key of the caller's account." })
  @ApiResponse({ status: 204, description: 'Revoked.' })
  @ApiErrors(...MANAGEMENT_AUTH_ERRORS, 'forbidden', 'key_not_found')
  revoke(@CurrentActor() actor: Actor, @ChangeOriginOf() origin: ChangeOrigin, @Param('keyId', keyId) key: string): Promise<void> {
    return this.keys.revoke(actor, origin, null, key);
  }

  @Get(':keyId/usage')
  @ApiOperation({
    summary: "A user-level key's uses over time",
    description: 'Owners and admins only. Counts per interval; a use is a request the gateway forwarded with the key.',
  })
  @ApiParam({ name: 'keyId', description: "An active user-level key of the caller's account." })
  @ApiQueryFrom(UsageQueryParamsSchema, USAGE_QUERY_DESCRIPTIONS)
  @ApiResponse({ status: 200, description: 'The usage series and its total.', schema: ref('UsageSeries') })
  @ApiErrors(...MANAGEMENT_AUTH_ERRORS, 'invalid_request', 'forbidden', 'key_not_found')
  usageOf(
    @CurrentActor() actor: Actor,
    @Param('keyId', keyId) key: string,
    @Query(new ZodPipe(UsageQueryParamsSchema)) query: UsageQueryParams,
  ): Promise<UsageSeries> {
    return this.usage.series(actor, null, key, query);
  }
}
