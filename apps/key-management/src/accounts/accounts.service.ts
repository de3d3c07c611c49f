import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import type { AccountView, AdminCreateAccount, AdminUpdateAccount } from '@app/contracts';
import type { AccountEntity } from '../database/entities/index.js';
import { ADMIN_ACTOR, AuditLog } from '../audit/audit-log.js';
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
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async create(request: AdminCreateAccount): Promise<AccountView> {
    const account = await this.transactions.run(async (tx) => {
      const account = await this.accounts.create(tx, { name: request.name, plan: request.plan });
      await this.audit.record(tx, {
        action: 'account.created',
        actor: ADMIN_ACTOR,
        origin: request.origin,
        accountId: account.id,
        details: { name: account.name, plan: account.plan },
      });
      return account;
    });
    return toAccountView(account);
  }

  /** A plan change is announced: going to `free` suspends chatbot keys everywhere, upgrading restores them. */
  async update(request: AdminUpdateAccount): Promise<AccountView> {
    const { before, after } = await this.transactions.run(async (tx) => {
      const account = await this.accounts.lockById(tx, request.accountId);
      if (!account) throw new ApiError('account_not_found', 'no such account');
      const changes = { name: request.name ?? account.name, plan: request.plan ?? account.plan };
      await this.accounts.update(tx, account.id, changes);
      const renamed = changes.name !== account.name ? { name: { old: account.name, new: changes.name } } : {};
      if (changes.plan !== account.plan || changes.name !== account.name) {
        await this.audit.record(tx, {
          // A rename alone has an action of its own; a plan change names the new name too when both change.
          action: changes.plan !== account.plan ? 'account.plan_changed' : 'account.renamed',
          actor: ADMIN_ACTOR,
          origin: request.origin,
          accountId: account.id,
          details: { ...(changes.plan !== account.plan ? { plan: { old: account.plan, new: changes.plan } } : {}), ...renamed },
        });
      }
      return { before: account, after: { ...account, ...changes } };
    });
    if (after.plan !== before.plan) this.events.publish('planChanged', { accountId: after.id, plan: after.plan });
    return toAccountView(after);
  }
}
