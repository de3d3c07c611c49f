import { Inject, Injectable } from '@nestjs/common';
import type { LookupAccountReply, LookupChatbotReply, LookupKeyReply } from '@app/contracts';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { ChatbotsRepository } from '../chatbots/chatbots.repository.js';
import { KeysRepository } from '../keys/keys.repository.js';
import { rateLimitOf } from '../keys/key-view.js';

/** What the auth-verifier asks on a cache miss. Unknown and revoked/deleted answer the same null. */
@Injectable()
export class LookupService {
  constructor(
    @Inject(KeysRepository) private readonly keys: KeysRepository,
    @Inject(AccountsRepository) private readonly accounts: AccountsRepository,
    @Inject(ChatbotsRepository) private readonly chatbots: ChatbotsRepository,
  ) {}

  async key(keyHash: string): Promise<LookupKeyReply> {
    const key = await this.keys.findActiveByHash(keyHash);
    if (!key) return null;
    return {
      keyId: key.id,
      type: key.type,
      accountId: key.accountId,
      chatbotId: key.chatbotId,
      userId: key.type === 'user' ? key.userId : null,
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
