import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import type { AccountView, AdminCreateAccount, AdminUpdateAccount } from '@app/contracts';
import type { AccountEntity } from '../database/entities/index.js';
import { Transactions } from '../database/transactions.js';
import { EventPublisher } from '../events/event-publisher.js';
import { AccountsRepository } from './accounts.repository.js';

export function toAccountView(account: AccountEntity): AccountView {
  return { id: account.id, name: account.name, plan: account.plan };
}

@Injectable()
export class AccountsService {
  constructor(
    @Inject(AccountsRepository) private readonly accounts: AccountsRepository,
    @Inject(Transactions) private readonly transactions: Transactions,
    @Inject(EventPublisher) private readonly events: EventPublisher,
  ) {}

  async create(request: AdminCreateAccount): Promise<AccountView> {
    return toAccountView(await this.accounts.create({ name: request.name, plan: request.plan }));
  }

  /** A plan change is announced: going to `free` suspends chatbot keys everywhere, upgrading restores them. */
  async update(request: AdminUpdateAccount): Promise<AccountView> {
    const { before, after } = await this.transactions.run(async (tx) => {
      const account = await this.accounts.lockById(tx, request.accountId);
      if (!account) throw new ApiError('account_not_found', 'no such account');
      const changes = { name: request.name ?? account.name, plan: request.plan ?? account.plan };
      await this.accounts.update(tx, account.id, changes);
      return { before: account, after: { ...account, ...changes } };
    });
    if (after.plan !== before.plan) this.events.publish('planChanged', { accountId: after.id, plan: after.plan });
    return toAccountView(after);
  }
}
