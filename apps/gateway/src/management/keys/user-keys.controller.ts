import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Actor, ChangeOrigin, KeyView, UsageSeries } from '@app/contracts';
import { ChangeOriginOf } from '../../http/change-origin.decorator.js';
import { ApiErrors, MANAGEMENT_AUTH_ERRORS } from '../../openapi/api-errors.js';
import { ApiQueryFrom } from '../../openapi/api-query.js';
import { fromZod, ref } from '../../openapi/api-schemas.js';
import { USAGE_QUERY_DESCRIPTIONS } from '../../openapi/api-descriptions.js';
import { CurrentActor } from '../caller/current-actor.decorator.js';
import { ManagementAuthGuard } from '../caller/management-auth.guard.js';
import { ResourceIdPipe } from '../validation/resource-id.pipe.js';
import { ZodPipe } from '../validation/zod-body.pipe.js';
import { CreateKeyBodySchema, RenameKeyBodySchema, type CreateKeyBody, type RenameKeyBody } from './key-bodies.js';
import { KeyUsageService } from '../usage/key-usage.service.js';
import { UsageQueryParamsSchema, type UsageQueryParams } from '../usage/usage-query.js';
import { ManagementKeysService, type CreatedKey } from './management-keys.service.js';

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
  @ApiOperation({ summary: 'Create a user-level key for the caller', description: 'Owners and admins only. The key is shown in this answer only.' })
  @ApiBody({ required: false, schema: fromZod(CreateKeyBodySchema), description: 'The name is trimmed to 1–64 characters; default "Untitled key".' })
  @ApiResponse({ status: 201, description: 'The key object (`type: "user"`, `chatbotId: null`) plus the key itself; sent with `Cache-Control: no-store`.', schema: ref('CreatedKey') })
  @ApiErrors(...MANAGEMENT_AUTH_ERRORS, 'invalid_request', 'payload_too_large', 'forbidden')
  create(
    @CurrentActor() actor: Actor,
    @ChangeOriginOf() origin: ChangeOrigin,
    @Body(new ZodPipe(CreateKeyBodySchema)) body: CreateKeyBody,
  ): Promise<CreatedKey> {
    return this.keys.create(actor, origin, null, body?.name);
  }

  @Get()
  @ApiOperation({ summary: "List the account's active user-level keys", description: 'Owners and admins only. Newest first.' })
  @ApiResponse({ status: 200, description: 'The active user-level keys of the account.', schema: ref('KeyList') })
  @ApiErrors(...MANAGEMENT_AUTH_ERRORS, 'forbidden')
  list(@CurrentActor() actor: Actor): Promise<{ data: KeyView[] }> {
    return this.keys.list(actor, null);
  }

  @Patch(':keyId')
  @ApiOperation({ summary: 'Rename a user-level key', description: 'Owners and admins only. The key keeps working.' })
  @ApiParam({ name: 'keyId', description: "An active user-level key of the caller's account." })
  @ApiBody({ schema: fromZod(RenameKeyBodySchema), description: 'The name is trimmed to 1–64 characters.' })
  @ApiResponse({ status: 200, description: 'The renamed key.', schema: ref('Key') })
  @ApiErrors(...MANAGEMENT_AUTH_ERRORS, 'invalid_request', 'payload_too_large', 'forbidden', 'key_not_found')
  rename(
    @CurrentActor() actor: Actor,
    @ChangeOriginOf() origin: ChangeOrigin,
    @Param('keyId', keyId) key: string,
    @Body(new ZodPipe(RenameKeyBodySchema)) body: RenameKeyBody,
  ): Promise<KeyView> {
    return this.keys.rename(actor, origin, null, key, body.name);
  }

  @Delete(':keyId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a user-level key', description: 'Owners and admins only. Every gateway and verifier refuses it within a second. Revoking it again: `404 key_not_found`.' })
  @ApiParam({ name: 'keyId', description: "An active user-level key of the caller's account." })
  @ApiResponse({ status: 204, description: 'Revoked.' })
  @ApiErrors(...MANAGEMENT_AUTH_ERRORS, 'forbidden', 'key_not_found')
  revoke(@CurrentActor() actor: Actor, @ChangeOriginOf() origin: ChangeOrigin, @Param('keyId', keyId) key: string): Promise<void> {
    return this.keys.revoke(actor, origin, null, key);
  }

  @Get(':keyId/usage')
  @ApiOperation({ summary: "A user-level key's uses over time", description: 'Owners and admins only. Counts per interval; a use is a request the gateway forwarded with the key.' })
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
