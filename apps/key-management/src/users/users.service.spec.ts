import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { automock } from '@app/testing';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { ChatbotsRepository } from '../chatbots/chatbots.repository.js';
import type { UserEntity } from '../database/entities/index.js';
import { DuplicateSsoSubjectError, UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';
import { TX, writeServiceMocks } from '../../test/write-service-mocks.js';

const stored: UserEntity = {
  id: 'u-1',
  accountId: 'acc-1',
  email: 'm@example.test',
  role: 'member',
  ssoSubject: null,
  createdAt: new Date(),
};

describe(UsersService.name, () => {
  let sut: UsersService;
  let liveChatbots: string[];
  const users = automock(UsersRepository);
  const accounts = automock(AccountsRepository);
  const chatbots = automock(ChatbotsRepository);
  const { transactions, events, audit, primeWriteMocks } = writeServiceMocks();

  beforeEach(() => {
    jest.clearAllMocks();
    liveChatbots = ['cb-1', 'cb-2'];
    users.create.mockResolvedValue(stored);
    users.lockById.mockResolvedValue(stored);
    users.replaceAssignments.mockResolvedValue(undefined);
    users.assignedChatbotIds.mockResolvedValue([]);
    accounts.findById.mockResolvedValue({ id: 'acc-1', name: 'Acme', plan: 'standard', createdAt: new Date() });
    chatbots.lockLiveIdsOfAccount.mockImplementation(async (_tx, _account, ids) => ids.filter((id) => liveChatbots.includes(id)));
    primeWriteMocks();
    sut = new UsersService(users, accounts, chatbots, transactions, events, audit);
  });

  it('creates a user with deduplicated assignments, in one transaction', async () => {
    const view = await sut.create({ accountId: 'acc-1', email: 'm@example.test', role: 'member', chatbotIds: ['cb-1', 'cb-2', 'cb-1'] });
    expect(view).toEqual({ id: 'u-1', accountId: 'acc-1', email: 'm@example.test', role: 'member', chatbotIds: ['cb-1', 'cb-2'] });
    expect(chatbots.lockLiveIdsOfAccount).toHaveBeenCalledWith(TX, 'acc-1', ['cb-1', 'cb-2']);
    expect(users.replaceAssignments).toHaveBeenCalledWith(TX, 'u-1', ['cb-1', 'cb-2']);
  });

  it('refuses chatbots that are not live chatbots of the account', async () => {
    await expect(
      sut.create({ accountId: 'acc-1', email: 'm@example.test', role: 'member', chatbotIds: ['cb-1', 'cb-other'] }),
    ).rejects.toMatchObject({
      code: 'chatbot_not_found',
    });
    expect(users.create).not.toHaveBeenCalled();
    await expect(sut.setChatbots({ userId: 'u-1', chatbotIds: ['cb-gone'] })).rejects.toMatchObject({ code: 'chatbot_not_found' });
    expect(events.publish).not.toHaveBeenCalled();
  });

  it('answers account_not_found and conflict (taken SSO subject)', async () => {
    accounts.findById.mockResolvedValueOnce(null);
    await expect(sut.create({ accountId: 'acc-9', email: 'm@example.test', role: 'owner' })).rejects.toMatchObject({
      code: 'account_not_found',
    });
    users.create.mockRejectedValueOnce(new DuplicateSsoSubjectError());
    await expect(sut.create({ accountId: 'acc-1', email: 'm@example.test', role: 'owner', ssoSubject: 'x' })).rejects.toMatchObject({
      code: 'conflict',
    });
  });

  it('replaces assignments and announces them', async () => {
    await expect(sut.setChatbots({ userId: 'u-1', chatbotIds: ['cb-2'] })).resolves.toMatchObject({ chatbotIds: ['cb-2'] });
    expect(users.replaceAssignments).toHaveBeenCalledWith(TX, 'u-1', ['cb-2']);
    expect(events.publish).toHaveBeenCalledWith('assignmentsChanged', { userId: 'u-1', accountId: 'acc-1', chatbotIds: ['cb-2'] });
  });

  it('answers user_not_found for an unknown user', async () => {
    users.lockById.mockResolvedValueOnce(null);
    await expect(sut.setChatbots({ userId: 'u-9', chatbotIds: [] })).rejects.toMatchObject({ code: 'user_not_found' });
  });
});
