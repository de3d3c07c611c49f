import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { UserEntity } from '../database/entities/index.js';
import { DuplicateSsoSubjectError } from './users.repository.js';
import { UsersService } from './users.service.js';

const TX = { transaction: 'handle' };
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
  const users = {
    create: jest.fn(async (..._args: unknown[]): Promise<UserEntity> => stored),
    lockById: jest.fn(async (..._args: unknown[]): Promise<UserEntity | null> => stored),
    replaceAssignments: jest.fn(async (..._args: unknown[]) => undefined),
    assignedChatbotIds: jest.fn(async (..._args: unknown[]): Promise<string[]> => []),
  };
  const accounts = { findById: jest.fn(async (..._args: unknown[]): Promise<object | null> => ({ id: 'acc-1' })) };
  const chatbots = {
    lockLiveIdsOfAccount: jest.fn(async (_tx: unknown, _account: string, ids: string[]) => ids.filter((id) => liveChatbots.includes(id))),
  };
  const transactions = { run: jest.fn((work: (tx: unknown) => Promise<unknown>) => work(TX)) };
  const events = { publish: jest.fn() };
  const audit = { record: jest.fn(async (..._args: unknown[]) => undefined) };

  beforeEach(() => {
    jest.clearAllMocks();
    liveChatbots = ['cb-1', 'cb-2'];
    sut = new UsersService(users as never, accounts as never, chatbots as never, transactions as never, events as never, audit);
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
