import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { automock } from '@app/testing';
import { ChatbotsRepository } from '../chatbots/chatbots.repository.js';
import type { ChatbotEntity } from '../database/entities/index.js';
import { UsersRepository } from '../users/users.repository.js';
import { ChatbotAccess } from './chatbot-access.js';
import { encodeListingCursor } from './listing-cursor.js';
import type { ResolvedActor } from './resolved-actor.js';

const CHATBOT_ID = '6f1c2a8e-3b7d-4c1e-9a2b-0d5e8f7a6b4c';
const chatbot = (overrides: Partial<ChatbotEntity> = {}): ChatbotEntity => ({
  id: CHATBOT_ID,
  accountId: 'acc-1',
  name: 'Support',
  createdAt: new Date('2026-03-01T10:00:00.123Z'),
  deletedAt: null,
  ...overrides,
});
const owner: ResolvedActor = { userId: 'u-owner', accountId: 'acc-1', role: 'owner' };
const admin: ResolvedActor = { userId: 'u-admin', accountId: 'acc-1', role: 'admin' };
const member: ResolvedActor = { userId: 'u-member', accountId: 'acc-1', role: 'member' };

describe(ChatbotAccess.name, () => {
  let sut: ChatbotAccess;
  const chatbots = automock(ChatbotsRepository);
  const users = automock(UsersRepository);

  beforeEach(() => {
    jest.clearAllMocks();
    chatbots.findLive.mockImplementation(async () => chatbot());
    chatbots.list.mockResolvedValue([]);
    users.isAssigned.mockResolvedValue(false);
    sut = new ChatbotAccess(chatbots, users);
  });

  describe('requireReachable', () => {
    it.each([owner, admin])('lets a $role reach every live chatbot of the account', async (actor) => {
      await expect(sut.requireReachable(actor, CHATBOT_ID)).resolves.toMatchObject({ id: CHATBOT_ID });
      expect(users.isAssigned).not.toHaveBeenCalled();
    });

    it('lets a member reach an assigned chatbot only', async () => {
      await expect(sut.requireReachable(member, CHATBOT_ID)).rejects.toMatchObject({ code: 'chatbot_not_found' });
      users.isAssigned.mockResolvedValueOnce(true);
      await expect(sut.requireReachable(member, CHATBOT_ID)).resolves.toMatchObject({ id: CHATBOT_ID });
      expect(users.isAssigned).toHaveBeenLastCalledWith('u-member', CHATBOT_ID);
    });

    it("answers chatbot_not_found, never forbidden, for another tenant's chatbot", async () => {
      chatbots.findLive.mockResolvedValueOnce(chatbot({ accountId: 'acc-2' }));
      await expect(sut.requireReachable(owner, CHATBOT_ID)).rejects.toMatchObject({ code: 'chatbot_not_found' });
    });

    it('answers chatbot_not_found for an unknown or deleted chatbot, even to an assigned member', async () => {
      chatbots.findLive.mockResolvedValue(null);
      users.isAssigned.mockResolvedValue(true);
      await expect(sut.requireReachable(owner, CHATBOT_ID)).rejects.toMatchObject({ code: 'chatbot_not_found' });
      await expect(sut.requireReachable(member, CHATBOT_ID)).rejects.toMatchObject({ code: 'chatbot_not_found' });
      chatbots.findLive.mockResolvedValue(chatbot());
      users.isAssigned.mockResolvedValue(false);
    });
  });

  describe('list', () => {
    it('limits members to their assignments and the whole account otherwise', async () => {
      await sut.list(member, 10);
      expect(chatbots.list).toHaveBeenLastCalledWith({ accountId: 'acc-1', assignedTo: 'u-member', after: undefined, limit: 11 });
      await sut.list(admin, 10);
      expect(chatbots.list).toHaveBeenLastCalledWith({ accountId: 'acc-1', assignedTo: undefined, after: undefined, limit: 11 });
    });

    it('gives a cursor only when there is more, and continues after it', async () => {
      const rows = [chatbot({ id: '00000000-0000-4000-8000-000000000001' }), chatbot({ id: '00000000-0000-4000-8000-000000000002' })];
      chatbots.list.mockResolvedValueOnce(rows);
      const page = await sut.list(owner, 1);
      expect(page.data).toEqual([{ id: rows[0].id, name: 'Support' }]);
      expect(page.nextCursor).toBe(encodeListingCursor(rows[0]));

      await sut.list(owner, 1, page.nextCursor!);
      expect(chatbots.list).toHaveBeenLastCalledWith(expect.objectContaining({ after: { createdAt: rows[0].createdAt, id: rows[0].id } }));

      chatbots.list.mockResolvedValueOnce(rows);
      expect((await sut.list(owner, 2)).nextCursor).toBeNull();
    });

    it.each(['', 'garbage', Buffer.from('123.not-a-uuid').toString('base64url'), Buffer.from(`x.${CHATBOT_ID}`).toString('base64url')])(
      'refuses a cursor it did not give out (%p)',
      async (cursor) => {
        await expect(sut.list(owner, 5, cursor)).rejects.toMatchObject({ code: 'invalid_request' });
        expect(chatbots.list).not.toHaveBeenCalled();
      },
    );
  });
});
