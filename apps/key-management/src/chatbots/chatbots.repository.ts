import { isUuid } from '@app/contracts';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, In, IsNull, type Repository } from 'typeorm';
import { ChatbotEntity, UserChatbotEntity } from '../database/entities/index.js';
import type { Tx } from '../database/transactions.js';

export interface ChatbotListingQuery {
  accountId: string;
  /** Only chatbots assigned to this user (members); absent: all of the account's. */
  assignedTo?: string;
  /** Continue after this position of the (created_at, id) order. */
  after?: { createdAt: Date; id: string };
  limit: number;
}

@Injectable()
export class ChatbotsRepository {
  constructor(@InjectRepository(ChatbotEntity) private readonly chatbots: Repository<ChatbotEntity>) {}

  create(tx: Tx, fields: { accountId: string; name: string }): Promise<ChatbotEntity> {
    const chatbots = tx.getRepository(ChatbotEntity);
    return chatbots.save(chatbots.create({ ...fields, deletedAt: null }));
  }

  /** A chatbot that has not been deleted; null otherwise. */
  async findLive(id: string): Promise<ChatbotEntity | null> {
    return isUuid(id) ? this.chatbots.findOneBy({ id, deletedAt: IsNull() }) : null;
  }

  /**
   * Locks a live chatbot's row until the transaction ends: key creations and the
   * chatbot's deletion on one chatbot run one after another, never interleaved.
   */
  async lockLive(tx: Tx, id: string): Promise<ChatbotEntity | null> {
    if (!isUuid(id)) return null;
    return tx.getRepository(ChatbotEntity).findOne({ where: { id, deletedAt: IsNull() }, lock: { mode: 'pessimistic_write' } });
  }

  async markDeleted(tx: Tx, id: string, at: Date): Promise<void> {
    await tx.getRepository(ChatbotEntity).update({ id }, { deletedAt: at });
  }

  /** Which of these ids are live chatbots of the account; share-locked so none is deleted before commit. */
  async lockLiveIdsOfAccount(tx: Tx, accountId: string, ids: string[]): Promise<string[]> {
    const candidates = ids.filter(isUuid);
    if (candidates.length === 0) return [];
    const found = await tx.getRepository(ChatbotEntity).find({
      select: { id: true },
      where: { id: In(candidates), accountId, deletedAt: IsNull() },
      lock: { mode: 'pessimistic_read' },
    });
    return found.map((chatbot) => chatbot.id);
  }

  /** Live chatbots in (created_at, id) order: stable across pages while chatbots come and go. */
  list(query: ChatbotListingQuery): Promise<ChatbotEntity[]> {
    const builder = this.chatbots
      .createQueryBuilder('chatbot')
      .where('chatbot.account_id = :accountId', { accountId: query.accountId })
      .andWhere('chatbot.deleted_at IS NULL');
    if (query.assignedTo) {
      builder.innerJoin(UserChatbotEntity, 'assignment', 'assignment.chatbot_id = chatbot.id AND assignment.user_id = :userId', {
        userId: query.assignedTo,
      });
    }
    if (query.after) {
      const { createdAt, id } = query.after;
      builder.andWhere(
        new Brackets((after) =>
          after
            .where('chatbot.created_at > :createdAt', { createdAt })
            .orWhere('(chatbot.created_at = :createdAt AND chatbot.id > :id)', { createdAt, id }),
        ),
      );
    }
    return builder.orderBy('chatbot.created_at', 'ASC').addOrderBy('chatbot.id', 'ASC').limit(query.limit).getMany();
  }
}
