import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { automock } from '@app/testing';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import type { ChatbotEntity } from '../database/entities/index.js';
import { KeysRepository } from '../keys/keys.repository.js';
import { ChatbotsRepository } from './chatbots.repository.js';
import { ChatbotsService } from './chatbots.service.js';
import { TX, writeServiceMocks } from '../../test/write-service-mocks.js';

const live: ChatbotEntity = { id: 'cb-1', accountId: 'acc-1', name: 'Support', createdAt: new Date(), deletedAt: null };

describe(ChatbotsService.name, () => {
  let sut: ChatbotsService;
  const chatbots = automock(ChatbotsRepository);
  const accounts = automock(AccountsRepository);
  const keys = automock(KeysRepository);
  const { transactions, events, audit, primeWriteMocks } = writeServiceMocks();

  beforeEach(() => {
    jest.clearAllMocks();
    chatbots.create.mockImplementation(async (_tx, fields) => ({ ...live, ...fields, id: 'cb-new' }));
    chatbots.lockLive.mockResolvedValue(live);
    chatbots.markDeleted.mockResolvedValue(undefined);
    accounts.findById.mockResolvedValue({ id: 'acc-1', name: 'Acme', plan: 'entry', createdAt: new Date() });
    keys.revokeAllForChatbot.mockResolvedValue([
      { id: 'k1', keyHash: 'h1', accountId: 'acc-1', chatbotId: 'cb-1' },
      { id: 'k2', keyHash: 'h2', accountId: 'acc-1', chatbotId: 'cb-1' },
    ]);
    primeWriteMocks();
    sut = new ChatbotsService(chatbots, accounts, keys, transactions, events, audit);
  });

  it('creates a chatbot in an existing account', async () => {
    await expect(sut.create({ accountId: 'acc-1', name: 'Sales' })).resolves.toEqual({ id: 'cb-new', accountId: 'acc-1', name: 'Sales' });
    accounts.findById.mockResolvedValueOnce(null);
    await expect(sut.create({ accountId: 'acc-9', name: 'Sales' })).rejects.toMatchObject({ code: 'account_not_found' });
  });

  it('deletes softly and revokes the keys in the same transaction, then announces each key and the deletion', async () => {
    await expect(sut.delete({ chatbotId: 'cb-1' })).resolves.toBeNull();

    const at = chatbots.markDeleted.mock.calls[0][2];
    expect(chatbots.markDeleted).toHaveBeenCalledWith(TX, 'cb-1', at);
    expect(keys.revokeAllForChatbot).toHaveBeenCalledWith(TX, 'cb-1', at);
    expect(audit.record.mock.calls.map(([tx, entry]) => [tx, (entry as { action: string }).action])).toEqual([
      [TX, 'chatbot.deleted'],
      [TX, 'key.revoked'],
      [TX, 'key.revoked'],
    ]);
    expect(events.publish.mock.calls).toEqual([
      ['keyRevoked', { keyId: 'k1', keyHash: 'h1', accountId: 'acc-1', chatbotId: 'cb-1' }],
      ['keyRevoked', { keyId: 'k2', keyHash: 'h2', accountId: 'acc-1', chatbotId: 'cb-1' }],
      ['chatbotDeleted', { chatbotId: 'cb-1', accountId: 'acc-1' }],
    ]);
  });

  it('answers chatbot_not_found for a chatbot already deleted, changing and announcing nothing', async () => {
    chatbots.lockLive.mockResolvedValueOnce(null);
    await expect(sut.delete({ chatbotId: 'cb-1' })).rejects.toMatchObject({ code: 'chatbot_not_found' });
    expect(keys.revokeAllForChatbot).not.toHaveBeenCalled();
    expect(events.publish).not.toHaveBeenCalled();
  });
});
