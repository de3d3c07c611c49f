import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { AuditAction } from '@app/contracts';
import { AuditEventEntity, UserChatbotEntity } from '../database/entities/index.js';
import type { AuditPosition } from './audit-cursor.js';

export interface AuditEventQuery {
  accountId: string;
  /** Only events of chatbots assigned to this user (members); absent: the whole account's. */
  assignedTo?: string;
  chatbotId?: string;
  keyId?: string;
  action?: AuditAction;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  /** Continue after this position of the (at, id) newest-first order. */
  before?: AuditPosition;
  limit: number;
}

@Injectable()
export class AuditEventsRepository {
  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {}

  /** Newest first, in (at, seq) order: a total order on values that never change, so pages are stable. */
  page(query: AuditEventQuery): Promise<AuditEventEntity[]> {
    const builder = this.events.createQueryBuilder('event').where('event.account_id = :accountId', { accountId: query.accountId });
    if (query.assignedTo) {
      const assigned = builder
        .subQuery()
        .select('assignment.chatbot_id')
        .from(UserChatbotEntity, 'assignment')
        .where('assignment.user_id = :userId')
        .getQuery();
      builder.andWhere(`event.chatbot_id IN ${assigned}`, { userId: query.assignedTo });
    }
    if (query.chatbotId) builder.andWhere('event.chatbot_id = :chatbotId', { chatbotId: query.chatbotId });
    if (query.keyId) builder.andWhere('event.key_id = :keyId', { keyId: query.keyId });
    if (query.action) builder.andWhere('event.action = :action', { action: query.action });
    if (query.from) builder.andWhere('event.at >= :from', { from: query.from });
    if (query.to) builder.andWhere('event.at < :to', { to: query.to });
    if (query.before) {
      builder.andWhere('(event.at, event.seq) < (:beforeAt, :beforeSeq)', { beforeAt: query.before.at, beforeSeq: query.before.seq });
    }
    return builder.orderBy('event.at', 'DESC').addOrderBy('event.seq', 'DESC').limit(query.limit).getMany();
  }
}
