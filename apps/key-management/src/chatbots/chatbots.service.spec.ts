import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ChatbotsService } from './chatbots.service.js';

const TX = { transaction: 'handle' };
const live = { id: 'cb-1', accountId: 'acc-1', name: 'Support', createdAt: new Date(), deletedAt: null };

describe(ChatbotsService.name, () => {
  let sut: ChatbotsService;
  const chatbots = {
    create: jest.fn(async (_tx: unknown, fields: { accountId: string; name: string }) => ({ ...live, ...fields, id: 'cb-new' })),
    lockLive: jest.fn(async (..._args: unknown[]): Promise<typeof live | null> => live),
    markDeleted: jest.fn(async (..._args: unknown[]) => undefined),
  };
  const accounts = { findById: jest.fn(async (..._args: unknown[]): Promise<object | null> => ({ id: 'acc-1', plan: 'entry' })) };
  const keys = {
    revokeAllForChatbot: jest.fn(async (..._args: unknown[]) => [
      { id: 'k1', keyHash: 'h1', accountId: 'acc-1', chatbotId: 'cb-1' },
      { id: 'k2', keyHash: 'h2', accountId: 'acc-1', chatbotId: 'cb-1' },
    ]),
  };
  const transactions = { run: jest.fn((work: (tx: unknown) => Promise<unknown>) => work(TX)) };
  const events = { publish: jest.fn() };
  const audit = { record: jest.fn(async (..._args: unknown[]) => undefined) };

  beforeEach(() => {
    jest.clearAllMocks();
    sut = new ChatbotsService(chatbots as never, accounts as never, keys as never, transactions as never, events as never, audit);
  });

  it('creates a chatbot in an existing account', async () => {
    await expect(sut.create({ accountId: 'acc-1', name: 'Sales' })).resolves.toEqual({ id: 'cb-new', accountId: 'acc-1', name: 'Sales' });
    accounts.findById.mockResolvedValueOnce(null);
    await expect(sut.create({ accountId: 'acc-9', name: 'Sales' })).rejects.toMatchObject({ code: 'account_not_found' });
  });

  it('deletes softly and revokes the keys in the same transaction, then announces each key and the deletion', async () => {
    await expect(sut.delete({ chatbotId: 'cb-1' })).resolves.toBeNull();

    const at = chatbots.markDeleted.mock.calls[0][2] as Date;
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
