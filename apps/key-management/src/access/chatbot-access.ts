import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import type { Page } from '@app/contracts';
import { ChatbotsRepository } from '../chatbots/chatbots.repository.js';
import type { ChatbotEntity } from '../database/entities/index.js';
import { UsersRepository } from '../users/users.repository.js';
import { decodeListingCursor, encodeListingCursor } from './listing-cursor.js';
import { actsOnWholeAccount, type ResolvedActor } from './resolved-actor.js';

/**
 * Which chatbots a caller reaches on the management API. Anything out of reach
 * (another tenant's, unknown, deleted, unassigned) is `chatbot_not_found`: existence
 * is never revealed, so there is no 403 here.
 */
@Injectable()
export class ChatbotAccess {
  constructor(
    @Inject(ChatbotsRepository) private readonly chatbots: ChatbotsRepository,
    @Inject(UsersRepository) private readonly users: UsersRepository,
  ) {}

  async requireReachable(actor: ResolvedActor, chatbotId: string): Promise<ChatbotEntity> {
    const chatbot = await this.chatbots.findLive(chatbotId);
    const reachable =
      chatbot !== null &&
      chatbot.accountId === actor.accountId &&
      (actsOnWholeAccount(actor) || (await this.users.isAssigned(actor.userId, chatbot.id)));
    if (!reachable) throw new ApiError('chatbot_not_found', 'no such chatbot');
    return chatbot;
  }

  async list(actor: ResolvedActor, limit: number, cursor?: string): Promise<Page<{ id: string; name: string }>> {
    const after = cursor === undefined ? undefined : decodeListingCursor(cursor);
    const rows = await this.chatbots.list({
      accountId: actor.accountId,
      assignedTo: actsOnWholeAccount(actor) ? undefined : actor.userId,
      after,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      data: page.map((chatbot) => ({ id: chatbot.id, name: chatbot.name })),
      nextCursor: rows.length > limit && last ? encodeListingCursor(last) : null,
    };
  }
}
