import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Param, Patch, Post, UseGuards } from '@nestjs/common';
import type { Actor, KeyView } from '@app/contracts';
import { CurrentActor } from '../caller/current-actor.decorator.js';
import { ManagementAuthGuard } from '../caller/management-auth.guard.js';
import { ResourceIdPipe } from '../validation/resource-id.pipe.js';
import { ZodPipe } from '../validation/zod-body.pipe.js';
import { CreateKeyBodySchema, RenameKeyBodySchema, type CreateKeyBody, type RenameKeyBody } from './key-bodies.js';
import { ManagementKeysService, type CreatedKey } from './management-keys.service.js';

const keyId = new ResourceIdPipe('key_not_found');

/** User-level keys: account-wide; only owners and admins may create them (key-management decides). */
@Controller('v1/api-keys')
@UseGuards(ManagementAuthGuard)
export class UserKeysController {
  constructor(@Inject(ManagementKeysService) private readonly keys: ManagementKeysService) {}

  @Post()
  @Header('Cache-Control', 'no-store')
  create(@CurrentActor() actor: Actor, @Body(new ZodPipe(CreateKeyBodySchema)) body: CreateKeyBody): Promise<CreatedKey> {
    return this.keys.create(actor, null, body?.name);
  }

  @Get()
  list(@CurrentActor() actor: Actor): Promise<{ data: KeyView[] }> {
    return this.keys.list(actor, null);
  }

  @Patch(':keyId')
  rename(
    @CurrentActor() actor: Actor,
    @Param('keyId', keyId) key: string,
    @Body(new ZodPipe(RenameKeyBodySchema)) body: RenameKeyBody,
  ): Promise<KeyView> {
    return this.keys.rename(actor, null, key, body.name);
  }

  @Delete(':keyId')
  @HttpCode(204)
  revoke(@CurrentActor() actor: Actor, @Param('keyId', keyId) key: string): Promise<void> {
    return this.keys.revoke(actor, null, key);
  }
}
