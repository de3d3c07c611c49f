import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import { isUuid, type AdminListAuditEvents, type AuditEventView, type AuditFilter, type ListAuditEvents, type Page } from '@app/contracts';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { ActorResolver } from '../access/actor-resolver.js';
import { actsOnWholeAccount } from '../access/resolved-actor.js';
import type { AuditEventEntity } from '../database/entities/index.js';
import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor.js';
import { AuditEventsRepository, type AuditEventQuery } from './audit-events.repository.js';

/**
 * Reading the audit log. Owners and admins see their account's events; members only
 * those of the chatbots assigned to them (their keys included); the admin API any account's.
 */
@Injectable()
export class AuditEventsService {
  constructor(
    @Inject(ActorResolver) private readonly actors: ActorResolver,
    @Inject(AccountsRepository) private readonly accounts: AccountsRepository,
    @Inject(AuditEventsRepository) private readonly events: AuditEventsRepository,
  ) {}

  async listForCaller(request: ListAuditEvents): Promise<Page<AuditEventView>> {
    const actor = await this.actors.resolve(request.actor);
    return this.page(request, { accountId: actor.accountId, assignedTo: actsOnWholeAccount(actor) ? undefined : actor.userId });
  }

  async listForAdmin(request: AdminListAuditEvents): Promise<Page<AuditEventView>> {
    const account = await this.accounts.findById(request.accountId);
    if (!account) throw new ApiError('account_not_found', 'no such account');
    return this.page(request, { accountId: account.id });
  }

  private async page(filter: AuditFilter, visible: Pick<AuditEventQuery, 'accountId' | 'assignedTo'>): Promise<Page<AuditEventView>> {
    // An id that is not a uuid names nothing: no event can match it.
    if ((filter.chatbotId !== undefined && !isUuid(filter.chatbotId)) || (filter.keyId !== undefined && !isUuid(filter.keyId))) {
      return { data: [], nextCursor: null };
    }
    const from = filter.from === undefined ? undefined : new Date(filter.from);
    const to = filter.to === undefined ? undefined : new Date(filter.to);
    if (from && to && from > to) throw new ApiError('invalid_request', 'from: must not be after to');
    const before = filter.cursor === undefined ? undefined : decodeAuditCursor(filter.cursor);
    const rows = await this.events.page({
      ...visible,
      chatbotId: filter.chatbotId,
      keyId: filter.keyId,
      action: filter.action,
      from,
      to,
      before,
      limit: filter.limit + 1,
    });
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    return {
      data: page.map(toAuditEventView),
      nextCursor: rows.length > filter.limit && last ? encodeAuditCursor(last) : null,
    };
  }
}

export function toAuditEventView(event: AuditEventEntity): AuditEventView {
  return {
    id: event.id,
    at: event.at.toISOString(),
    action: event.action,
    actor: { type: event.actorType, id: event.actorId },
    accountId: event.accountId,
    chatbotId: event.chatbotId,
    keyId: event.keyId,
    requestId: event.requestId,
    ip: event.ip,
    details: event.details,
  };
}
