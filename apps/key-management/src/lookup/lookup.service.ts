import { Inject, Injectable } from '@nestjs/common';
import type { LookupAccountReply, LookupChatbotReply, LookupKeyReply } from '@app/contracts';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { ChatbotsRepository } from '../chatbots/chatbots.repository.js';
import { KeysRepository } from '../keys/keys.repository.js';
import { endOf, rateLimitOf } from '../keys/key-view.js';

/**
 * What the auth-verifier asks on a cache miss. Unknown, revoked, disabled and past-its-end keys
 * answer the same null: the database is what a verifier that missed an event falls back on.
 */
@Injectable()
export class LookupService {
  constructor(
    @Inject(KeysRepository) private readonly keys: KeysRepository,
    @Inject(AccountsRepository) private readonly accounts: AccountsRepository,
    @Inject(ChatbotsRepository) private readonly chatbots: ChatbotsRepository,
  ) {}

  async key(keyHash: string): Promise<LookupKeyReply> {
    const key = await this.keys.findActiveByHash(keyHash);
    if (!key || !key.enabled) return null;
    const end = endOf(key);
    if (end !== null && end.getTime() <= Date.now()) return null;
    return {
      keyId: key.id,
      type: key.type,
      accountId: key.accountId,
      chatbotId: key.chatbotId,
      userId: key.type === 'user' ? key.userId : null,
      endsAt: end?.getTime() ?? null,
      allowedIps: key.allowedIps,
      rateLimit: rateLimitOf(key),
    };
  }

  async account(accountId: string): Promise<LookupAccountReply> {
    const account = await this.accounts.findById(accountId);
    return account ? { accountId: account.id, plan: account.plan } : null;
  }

  async chatbot(chatbotId: string): Promise<LookupChatbotReply> {
    const chatbot = await this.chatbots.findLive(chatbotId);
    return chatbot ? { chatbotId: chatbot.id, accountId: chatbot.accountId } : null;
  }
}
