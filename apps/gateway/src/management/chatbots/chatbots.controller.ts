import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { NatsBus } from '@app/common';
import type { Actor, Page } from '@app/contracts';
import { CurrentActor } from '../caller/current-actor.decorator.js';
import { ManagementAuthGuard } from '../caller/management-auth.guard.js';
import { ZodPipe } from '../validation/zod-body.pipe.js';
import { ListChatbotsQuerySchema, type ListChatbotsQuery } from './list-chatbots.query.js';

/** The chatbots the caller reaches: all of the account's for owners and admins, the assigned ones for members. */
@Controller('v1/chatbots')
@UseGuards(ManagementAuthGuard)
export class ChatbotsController {
  constructor(@Inject(NatsBus) private readonly bus: NatsBus) {}

  @Get()
  list(
    @CurrentActor() actor: Actor,
    @Query(new ZodPipe(ListChatbotsQuerySchema)) query: ListChatbotsQuery,
  ): Promise<Page<{ id: string; name: string }>> {
    return this.bus.request('listChatbots', { actor, limit: query.limit, cursor: query.cursor });
  }
}
