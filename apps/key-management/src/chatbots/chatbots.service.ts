import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import type { AdminCreateChatbot, AdminDeleteChatbot, ChatbotView } from '@app/contracts';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { ADMIN_ACTOR, AuditLog } from '../audit/audit-log.js';
import { Transactions } from '../database/transactions.js';
import { EventPublisher } from '../events/event-publisher.js';
import { keysRevoked } from '../events/event-metrics.js';
import { KeysRepository } from '../keys/keys.repository.js';
import { ChatbotsRepository } from './chatbots.repository.js';

/** Provisioning of chatbots (admin API). */
@Injectable()
export class ChatbotsService {
  constructor(
    @Inject(ChatbotsRepository) private readonly chatbots: ChatbotsRepository,
    @Inject(AccountsRepository) private readonly accounts: AccountsRepository,
    @Inject(KeysRepository) private readonly keys: KeysRepository,
    @Inject(Transactions) private readonly transactions: Transactions,
    @Inject(EventPublisher) private readonly events: EventPublisher,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async create(request: AdminCreateChatbot): Promise<ChatbotView> {
    const account = await this.accounts.findById(request.accountId);
    if (!account) throw new ApiError('account_not_found', 'no such account');
    const chatbot = await this.transactions.run(async (tx) => {
      const chatbot = await this.chatbots.create(tx, { accountId: account.id, name: request.name });
      await this.audit.record(tx, {
        action: 'chatbot.created',
        actor: ADMIN_ACTOR,
        origin: request.origin,
        accountId: chatbot.accountId,
        chatbotId: chatbot.id,
        details: { name: chatbot.name },
      });
      return chatbot;
    });
    return { id: chatbot.id, accountId: chatbot.accountId, name: chatbot.name };
  }

  /**
   * Soft-deletes the chatbot and revokes all its active keys in one transaction (the row
   * lock keeps a concurrent key creation from slipping in), then announces every revoked
   * key and the deletion.
   */
  async delete(request: AdminDeleteChatbot): Promise<null> {
    const { chatbot, revoked } = await this.transactions.run(async (tx) => {
      const chatbot = await this.chatbots.lockLive(tx, request.chatbotId);
      if (!chatbot) throw new ApiError('chatbot_not_found', 'no such chatbot');
      const now = new Date();
      await this.chatbots.markDeleted(tx, chatbot.id, now);
      const revoked = await this.keys.revokeAllForChatbot(tx, chatbot.id, now);
      const event = { actor: ADMIN_ACTOR, origin: request.origin, accountId: chatbot.accountId, chatbotId: chatbot.id };
      await this.audit.record(tx, { ...event, action: 'chatbot.deleted', details: { name: chatbot.name, keysRevoked: revoked.length } });
      for (const key of revoked) {
        await this.audit.record(tx, { ...event, action: 'key.revoked', keyId: key.id, details: { reason: 'chatbot_deleted' } });
      }
      return { chatbot, revoked };
    });
    keysRevoked.inc({ reason: 'chatbot_deleted' }, revoked.length);
    for (const key of revoked) {
      this.events.publish('keyRevoked', {
        keyId: key.id,
        keyHash: key.keyHash,
        accountId: key.accountId,
        chatbotId: key.chatbotId,
      });
    }
    this.events.publish('chatbotDeleted', { chatbotId: chatbot.id, accountId: chatbot.accountId });
    return null;
  }
}
