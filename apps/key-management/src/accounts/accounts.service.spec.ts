import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { automock } from '@app/testing';
import type { AccountEntity } from '../database/entities/index.js';
import { AccountsRepository } from './accounts.repository.js';
import { AccountsService } from './accounts.service.js';
import { TX, writeServiceMocks } from '../../test/write-service-mocks.js';

const stored: AccountEntity = { id: 'acc-1', name: 'Acme', plan: 'standard', createdAt: new Date() };

describe(AccountsService.name, () => {
  let sut: AccountsService;
  const accounts = automock(AccountsRepository);
  const { transactions, events, audit, primeWriteMocks } = writeServiceMocks();

  beforeEach(() => {
    jest.clearAllMocks();
    accounts.lockById.mockResolvedValue(stored);
    accounts.update.mockResolvedValue(undefined);
    primeWriteMocks();
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
