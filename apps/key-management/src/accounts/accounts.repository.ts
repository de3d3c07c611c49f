import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { isUuid, type Plan } from '@app/contracts';
import { AccountEntity } from '../database/entities/index.js';
import type { Tx } from '../database/transactions.js';

@Injectable()
export class AccountsRepository {
  constructor(@InjectRepository(AccountEntity) private readonly accounts: Repository<AccountEntity>) {}

  create(tx: Tx, fields: { name: string; plan: Plan }): Promise<AccountEntity> {
    const accounts = tx.getRepository(AccountEntity);
    return accounts.save(accounts.create(fields));
  }

  async findById(id: string): Promise<AccountEntity | null> {
    return isUuid(id) ? this.accounts.findOneBy({ id }) : null;
  }

  /** Locks the account row until the transaction ends, so that two plan changes apply in order. */
  async lockById(tx: Tx, id: string): Promise<AccountEntity | null> {
    if (!isUuid(id)) return null;
    return tx.getRepository(AccountEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  async update(tx: Tx, id: string, changes: { name?: string; plan?: Plan }): Promise<void> {
    await tx.getRepository(AccountEntity).update({ id }, changes);
  }
}
