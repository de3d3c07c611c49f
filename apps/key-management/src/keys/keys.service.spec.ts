import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Actor, Plan } from '@app/contracts';
import type { ApiKeyEntity } from '../database/entities/index.js';
import type { ResolvedActor } from '../access/resolved-actor.js';
import { DuplicateKeyHashError } from './keys.repository.js';
import { KEY_LIMIT_PER_CHATBOT, KeysService } from './keys.service.js';

const TX = { transaction: 'handle' };
const HASH = 'a'.repeat(64);
const owner: ResolvedActor = { userId: 'u-owner', accountId: 'acc-1', role: 'owner' };
const member: ResolvedActor = { userId: 'u-member', accountId: 'acc-1', role: 'member' };
const chatbot = { id: 'cb-1', accountId: 'acc-1', name: 'Support', createdAt: new Date(), deletedAt: null };

function storedKey(overrides: Partial<ApiKeyEntity> = {}): ApiKeyEntity {
  return {
    id: 'key-1',
    accountId: 'acc-1',
    chatbotId: 'cb-1',
    type: 'chatbot',
    userId: null,
    createdBy: 'u-owner',
    name: 'Zapier',
    prefix: 'cbk_12345678',
    keyHash: HASH,
    legacy: false,
    createdAt: new Date('2026-01-02T03:04:05.678Z'),
    revokedAt: null,
    rateLimitRequests: null,
    rateLimitWindowSeconds: null,
    ...overrides,
  };
}

describe(KeysService.name, () => {
  let sut: KeysService;
  let caller: ResolvedActor;
  let plan: Plan;
  let activeKeys: number;
  const actors = { resolve: jest.fn(async (_actor: Actor) => caller) };
  const access = { requireReachable: jest.fn(async (..._args: unknown[]) => chatbot) };
  const accounts = { findById: jest.fn(async (..._args: unknown[]) => ({ id: 'acc-1', name: 'Acme', plan, createdAt: new Date() })) };
  const chatbots = { lockLive: jest.fn(async (..._args: unknown[]): Promise<typeof chatbot | null> => chatbot) };
  const keys = {
    countActiveForChatbot: jest.fn(async (..._args: unknown[]) => activeKeys),
    insert: jest.fn(async (_tx: unknown, key: Partial<ApiKeyEntity>) => storedKey({ ...key, id: 'key-new' })),
    lockActive: jest.fn(async (..._args: unknown[]): Promise<ApiKeyEntity | null> => storedKey()),
    revoke: jest.fn(async (..._args: unknown[]) => undefined),
    update: jest.fn(async (..._args: unknown[]) => undefined),
    listActive: jest.fn(async (..._args: unknown[]) => [storedKey()]),
    findActive: jest.fn(async (..._args: unknown[]): Promise<ApiKeyEntity | null> => null),
  };
  const transactions = { run: jest.fn((work: (tx: unknown) => Promise<unknown>) => work(TX)) };
  const events = { publish: jest.fn() };

  beforeEach(() => {
    jest.clearAllMocks();
    caller = owner;
    plan = 'standard';
    activeKeys = 0;
    sut = new KeysService(actors as never, access as never, accounts as never, chatbots as never, keys as never, transactions as never, events as never);
  });

  const createChatbotKey = () =>
    sut.create({ actor: { userId: caller.userId }, chatbotId: 'cb-1', name: 'Zapier', keyHash: HASH, prefix: 'cbk_12345678' });

  describe('creating a chatbot key', () => {
    it('stores it under the locked chatbot, created by the caller, and announces it', async () => {
      activeKeys = KEY_LIMIT_PER_CHATBOT - 1;
      const view = await createChatbotKey();

      expect(chatbots.lockLive).toHaveBeenCalledWith(TX, 'cb-1');
      expect(keys.countActiveForChatbot).toHaveBeenCalledWith(TX, 'cb-1');
      expect(keys.insert).toHaveBeenCalledWith(TX, expect.objectContaining({ type: 'chatbot', chatbotId: 'cb-1', accountId: 'acc-1', userId: null, createdBy: 'u-owner', legacy: false }));
      expect(events.publish).toHaveBeenCalledWith('keyCreated', { keyId: 'key-new', keyHash: HASH, accountId: 'acc-1' });
      expect(view).toEqual(expect.objectContaining({ id: 'key-new', lastUsedAt: null, createdAt: '2026-01-02T03:04:05.678Z' }));
      expect(view).not.toHaveProperty('keyHash');
    });

    it('announces nothing until the transaction has committed', async () => {
      let commit!: () => void;
      transactions.run.mockImplementationOnce(async (work) => {
        const result = await work(TX);
        await new Promise<void>((resolve) => (commit = resolve));
        return result;
      });
      const creating = createChatbotKey();
      await new Promise((resolve) => setImmediate(resolve));
      expect(keys.insert).toHaveBeenCalled();
      expect(events.publish).not.toHaveBeenCalled();
      commit();
      await creating;
      expect(events.publish).toHaveBeenCalledTimes(1);
    });

    it(`refuses an ${KEY_LIMIT_PER_CHATBOT + 1}th active key`, async () => {
      activeKeys = KEY_LIMIT_PER_CHATBOT;
      await expect(createChatbotKey()).rejects.toMatchObject({ code: 'key_limit_reached' });
      expect(keys.insert).not.toHaveBeenCalled();
      expect(events.publish).not.toHaveBeenCalled();
    });

    it('refuses on the free plan, before touching keys', async () => {
      plan = 'free';
      await expect(createChatbotKey()).rejects.toMatchObject({ code: 'plan_not_eligible' });
      expect(transactions.run).not.toHaveBeenCalled();
    });

    it('lets a member create keys on a chatbot they reach', async () => {
      caller = member;
      await createChatbotKey();
      expect(access.requireReachable).toHaveBeenCalledWith(member, 'cb-1');
      expect(keys.insert).toHaveBeenCalledWith(TX, expect.objectContaining({ createdBy: 'u-member' }));
    });

    it('answers chatbot_not_found when the chatbot was deleted before the lock', async () => {
      chatbots.lockLive.mockResolvedValueOnce(null);
      await expect(createChatbotKey()).rejects.toMatchObject({ code: 'chatbot_not_found' });
      expect(keys.insert).not.toHaveBeenCalled();
    });

    it('answers conflict when the hash is already stored', async () => {
      keys.insert.mockRejectedValueOnce(new DuplicateKeyHashError());
      await expect(createChatbotKey()).rejects.toMatchObject({ code: 'conflict' });
      expect(events.publish).not.toHaveBeenCalled();
    });
  });

  describe('user-level keys (chatbotId null)', () => {
    it('are held by the calling owner or admin', async () => {
      await sut.create({ actor: { userId: 'u-owner' }, chatbotId: null, name: 'Ops', keyHash: HASH, prefix: 'usk_12345678' });
      expect(keys.insert).toHaveBeenCalledWith(TX, expect.objectContaining({ type: 'user', chatbotId: null, userId: 'u-owner', accountId: 'acc-1' }));
      expect(access.requireReachable).not.toHaveBeenCalled();
    });

    it('are forbidden to members, whatever the call', async () => {
      caller = member;
      const actor = { userId: member.userId };
      await expect(sut.create({ actor, chatbotId: null, name: 'x', keyHash: HASH, prefix: 'usk_12345678' })).rejects.toMatchObject({ code: 'forbidden' });
      await expect(sut.list({ actor, chatbotId: null })).rejects.toMatchObject({ code: 'forbidden' });
      await expect(sut.revoke({ actor, chatbotId: null, keyId: 'key-1' })).rejects.toMatchObject({ code: 'forbidden' });
      expect(keys.insert).not.toHaveBeenCalled();
    });

    it('are looked up among the account\'s user-level keys', async () => {
      await sut.list({ actor: { userId: 'u-owner' }, chatbotId: null });
      expect(keys.listActive).toHaveBeenCalledWith({ userKeysOf: 'acc-1' });
    });
  });

  describe('revoking', () => {
    it('revokes the active key of that chatbot and announces it', async () => {
      await expect(sut.revoke({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1' })).resolves.toBeNull();
      expect(keys.lockActive).toHaveBeenCalledWith(TX, 'key-1', { chatbotId: 'cb-1' });
      expect(keys.revoke).toHaveBeenCalledWith(TX, 'key-1', expect.any(Date));
      expect(events.publish).toHaveBeenCalledWith('keyRevoked', { keyId: 'key-1', keyHash: HASH, accountId: 'acc-1', chatbotId: 'cb-1' });
    });

    it('answers key_not_found for a key that is not active there, announcing nothing', async () => {
      keys.lockActive.mockResolvedValueOnce(null);
      await expect(sut.revoke({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1' })).rejects.toMatchObject({ code: 'key_not_found' });
      expect(events.publish).not.toHaveBeenCalled();
    });

    it('checks reach first: an unreachable chatbot is chatbot_not_found', async () => {
      access.requireReachable.mockRejectedValueOnce(Object.assign(new Error('no'), { code: 'chatbot_not_found' }));
      await expect(sut.revoke({ actor: { userId: 'u-owner' }, chatbotId: 'cb-9', keyId: 'key-1' })).rejects.toMatchObject({ code: 'chatbot_not_found' });
      expect(keys.lockActive).not.toHaveBeenCalled();
    });
  });

  it('renames an active key and announces it', async () => {
    const view = await sut.update({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1', name: 'Make' });
    expect(keys.update).toHaveBeenCalledWith(TX, 'key-1', { name: 'Make', rateLimit: undefined });
    expect(view).toMatchObject({ name: 'Make', rateLimit: null });
    expect(events.publish.mock.calls).toEqual([['keyRenamed', { keyId: 'key-1', accountId: 'acc-1' }]]);
  });

  it('sets a rate limit and announces it with the key hash, so that every gateway drops what it cached', async () => {
    const rateLimit = { requests: 100, windowSeconds: 60 };
    const view = await sut.update({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1', rateLimit });
    expect(keys.update).toHaveBeenCalledWith(TX, 'key-1', { name: undefined, rateLimit });
    expect(view).toMatchObject({ name: 'Zapier', rateLimit });
    expect(events.publish.mock.calls).toEqual([['keyUpdated', { keyId: 'key-1', keyHash: HASH, accountId: 'acc-1' }]]);
  });

  it('clears a rate limit with null; an unchanged limit announces nothing', async () => {
    keys.lockActive.mockResolvedValueOnce(storedKey({ rateLimitRequests: 5, rateLimitWindowSeconds: 1 }));
    const cleared = await sut.update({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1', rateLimit: null });
    expect(cleared.rateLimit).toBeNull();
    expect(events.publish).toHaveBeenCalledWith('keyUpdated', expect.objectContaining({ keyId: 'key-1' }));
    events.publish.mockClear();
    keys.lockActive.mockResolvedValueOnce(storedKey({ rateLimitRequests: 5, rateLimitWindowSeconds: 1 }));
    await sut.update({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1', rateLimit: { requests: 5, windowSeconds: 1 } });
    expect(events.publish).not.toHaveBeenCalled();
  });

  it('creates a key with its rate limit', async () => {
    const rateLimit = { requests: 10, windowSeconds: 1 };
    await sut.create({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', name: 'Zapier', keyHash: HASH, prefix: 'cbk_12345678', rateLimit });
    expect(keys.insert).toHaveBeenCalledWith(TX, expect.objectContaining({ rateLimit }));
  });

  it('gets only a key active in scope', async () => {
    await expect(sut.get({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1' })).rejects.toMatchObject({ code: 'key_not_found' });
    keys.findActive.mockResolvedValueOnce(storedKey());
    await expect(sut.get({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1' })).resolves.toMatchObject({ id: 'key-1' });
  });
});
