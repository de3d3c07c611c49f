import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { automock } from '@app/testing';
import { AuditLog } from '../audit/audit-log.js';
import type { AccountEntity } from '../database/entities/index.js';
import { Transactions, type Tx } from '../database/transactions.js';
import { EventPublisher } from '../events/event-publisher.js';
import { AccountsRepository } from './accounts.repository.js';
import { AccountsService } from './accounts.service.js';

/** A stand-in for the transaction handle: the service only passes it on to the repositories. */
const TX = { transaction: 'handle' } as unknown as Tx;
const stored: AccountEntity = { id: 'acc-1', name: 'Acme', plan: 'standard', createdAt: new Date() };

describe(AccountsService.name, () => {
  let sut: AccountsService;
  const accounts = automock(AccountsRepository);
  const transactions = automock(Transactions);
  const events = automock(EventPublisher);
  const audit = automock(AuditLog);

  beforeEach(() => {
    jest.clearAllMocks();
    accounts.lockById.mockResolvedValue(stored);
    accounts.update.mockResolvedValue(undefined);
    transactions.run.mockImplementation((work) => work(TX));
    audit.record.mockResolvedValue(undefined);
    sut = new AccountsService(accounts, transactions, events, audit);
  });

  it('announces a plan change', async () => {
    await expect(sut.update({ accountId: 'acc-1', plan: 'free' })).resolves.toEqual({ id: 'acc-1', name: 'Acme', plan: 'free' });
    expect(accounts.update).toHaveBeenCalledWith(TX, 'acc-1', { name: 'Acme', plan: 'free' });
    expect(events.publish).toHaveBeenCalledWith('planChanged', { accountId: 'acc-1', plan: 'free' });
    expect(audit.record).toHaveBeenCalledWith(
      TX,
      expect.objectContaining({ action: 'account.plan_changed', details: { plan: { old: 'standard', new: 'free' } } }),
    );
  });

  it('announces nothing when the plan stays', async () => {
    await expect(sut.update({ accountId: 'acc-1', name: 'Acme GmbH', plan: 'standard' })).resolves.toMatchObject({ name: 'Acme GmbH' });
    expect(events.publish).not.toHaveBeenCalled();
  });

  it('answers account_not_found for an unknown account', async () => {
    accounts.lockById.mockResolvedValueOnce(null);
    await expect(sut.update({ accountId: 'acc-9', plan: 'free' })).rejects.toMatchObject({ code: 'account_not_found' });
    expect(accounts.update).not.toHaveBeenCalled();
  });
});
