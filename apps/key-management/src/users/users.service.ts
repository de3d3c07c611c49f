import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import type { AdminCreateUser, AdminSetUserChatbots, UserView } from '@app/contracts';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { ChatbotsRepository } from '../chatbots/chatbots.repository.js';
import type { UserEntity } from '../database/entities/index.js';
import { ADMIN_ACTOR, AuditLog } from '../audit/audit-log.js';
import { Transactions, type Tx } from '../database/transactions.js';
import { EventPublisher } from '../events/event-publisher.js';
import { DuplicateSsoSubjectError, UsersRepository } from './users.repository.js';

/** Provisioning of users and their chatbot assignments (admin API). */
@Injectable()
export class UsersService {
  constructor(
    @Inject(UsersRepository) private readonly users: UsersRepository,
    @Inject(AccountsRepository) private readonly accounts: AccountsRepository,
    @Inject(ChatbotsRepository) private readonly chatbots: ChatbotsRepository,
    @Inject(Transactions) private readonly transactions: Transactions,
    @Inject(EventPublisher) private readonly events: EventPublisher,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async create(request: AdminCreateUser): Promise<UserView> {
    const account = await this.accounts.findById(request.accountId);
    if (!account) throw new ApiError('account_not_found', 'no such account');
    const chatbotIds = unique(request.chatbotIds ?? []);
    try {
      const user = await this.transactions.run(async (tx) => {
        await this.requireLiveChatbots(tx, account.id, chatbotIds);
        const user = await this.users.create(tx, {
          accountId: account.id,
          email: request.email,
          role: request.role,
          ssoSubject: request.ssoSubject ?? null,
        });
        await this.users.replaceAssignments(tx, user.id, chatbotIds);
        await this.audit.record(tx, {
          action: 'user.created',
          actor: ADMIN_ACTOR,
          origin: request.origin,
          accountId: account.id,
          details: { userId: user.id, email: user.email, role: user.role, ssoSubject: user.ssoSubject, chatbotIds },
        });
        return user;
      });
      return toUserView(user, chatbotIds);
    } catch (error) {
      if (error instanceof DuplicateSsoSubjectError) throw new ApiError('conflict', 'a user with this SSO subject exists');
      throw error;
    }
  }

  /** Replaces the user's assignments; every replica drops what it cached about this user. */
  async setChatbots(request: AdminSetUserChatbots): Promise<UserView> {
    const chatbotIds = unique(request.chatbotIds);
    const user = await this.transactions.run(async (tx) => {
      const user = await this.users.lockById(tx, request.userId);
      if (!user) throw new ApiError('user_not_found', 'no such user');
      await this.requireLiveChatbots(tx, user.accountId, chatbotIds);
      const before = await this.users.assignedChatbotIds(tx, user.id);
      await this.users.replaceAssignments(tx, user.id, chatbotIds);
      await this.audit.record(tx, {
        action: 'user.assignments_changed',
        actor: ADMIN_ACTOR,
        origin: request.origin,
        accountId: user.accountId,
        details: { userId: user.id, chatbotIds: { old: before, new: chatbotIds } },
      });
      return user;
    });
    this.events.publish('assignmentsChanged', { userId: user.id, accountId: user.accountId, chatbotIds });
    return toUserView(user, chatbotIds);
  }

  private async requireLiveChatbots(tx: Tx, accountId: string, chatbotIds: string[]): Promise<void> {
    if (chatbotIds.length === 0) return;
    const live = await this.chatbots.lockLiveIdsOfAccount(tx, accountId, chatbotIds);
    if (live.length !== chatbotIds.length) throw new ApiError('chatbot_not_found', 'no such chatbot in this account');
  }
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}

function toUserView(user: UserEntity, chatbotIds: string[]): UserView {
  return { id: user.id, accountId: user.accountId, email: user.email, role: user.role, chatbotIds };
}
