import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { AccountEntity } from '../database/entities/index.js';
import { AccountsService } from './accounts.service.js';

const TX = { transaction: 'handle' };
const stored: AccountEntity = { id: 'acc-1', name: 'Acme', plan: 'standard', createdAt: new Date() };

describe(AccountsService.name, () => {
  let sut: AccountsService;
  const accounts = {
    lockById: jest.fn(async (..._args: unknown[]): Promise<AccountEntity | null> => stored),
    update: jest.fn(async (..._args: unknown[]) => undefined),
  };
  const transactions = { run: jest.fn((work: (tx: unknown) => Promise<unknown>) => work(TX)) };
  const events = { publish: jest.fn() };
  const audit = { record: jest.fn(async (..._args: unknown[]) => undefined) };

  beforeEach(() => {
    jest.clearAllMocks();
    sut = new AccountsService(accounts as never, transactions as never, events as never, audit);
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
