import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Plan } from '@app/contracts';
import type { ApiKeyEntity } from '../database/entities/index.js';
import type { ResolvedActor } from '../access/resolved-actor.js';
import { automock } from '@app/testing';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { ActorResolver } from '../access/actor-resolver.js';
import { ChatbotAccess } from '../access/chatbot-access.js';
import { ChatbotsRepository } from '../chatbots/chatbots.repository.js';
import { DuplicateKeyHashError, KeysRepository } from './keys.repository.js';
import { KEY_LIMIT_PER_CHATBOT } from '@app/contracts';
import { KeysService } from './keys.service.js';
import { TX, writeServiceMocks } from '../../test/write-service-mocks.js';

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
    expiresAt: null,
    enabled: true,
    allowedIps: null,
    rolledFrom: null,
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
  const actors = automock(ActorResolver);
  const access = automock(ChatbotAccess);
  const accounts = automock(AccountsRepository);
  const chatbots = automock(ChatbotsRepository);
  const keys = automock(KeysRepository);
  const { transactions, events, audit, primeWriteMocks } = writeServiceMocks();

  beforeEach(() => {
    jest.clearAllMocks();
    caller = owner;
    plan = 'standard';
    activeKeys = 0;
    actors.resolve.mockImplementation(async () => caller);
    access.requireReachable.mockResolvedValue(chatbot);
    accounts.findById.mockImplementation(async () => ({ id: 'acc-1', name: 'Acme', plan, createdAt: new Date() }));
    chatbots.lockLive.mockResolvedValue(chatbot);
    keys.countActiveForChatbot.mockImplementation(async () => activeKeys);
    keys.insert.mockImplementation(async (_tx, key) => storedKey({ ...key, id: 'key-new' }));
    keys.lockActive.mockImplementation(async () => storedKey());
    keys.revoke.mockResolvedValue(undefined);
    keys.update.mockResolvedValue(undefined);
    keys.listActive.mockImplementation(async () => [storedKey()]);
    keys.findActive.mockResolvedValue(null);
    primeWriteMocks();
    sut = new KeysService(actors, access, accounts, chatbots, keys, transactions, events, audit);
  });

  const createChatbotKey = () =>
    sut.create({ actor: { userId: caller.userId }, chatbotId: 'cb-1', name: 'Zapier', keyHash: HASH, prefix: 'cbk_12345678' });

  describe('creating a chatbot key', () => {
    it('stores it under the locked chatbot, created by the caller, and announces it', async () => {
      activeKeys = KEY_LIMIT_PER_CHATBOT - 1;
      const view = await createChatbotKey();

      expect(chatbots.lockLive).toHaveBeenCalledWith(TX, 'cb-1');
      expect(keys.countActiveForChatbot).toHaveBeenCalledWith(TX, 'cb-1');
      expect(keys.insert).toHaveBeenCalledWith(
        TX,
        expect.objectContaining({
          type: 'chatbot',
          chatbotId: 'cb-1',
          accountId: 'acc-1',
          userId: null,
          createdBy: 'u-owner',
          legacy: false,
        }),
      );
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
      expect(keys.insert).toHaveBeenCalledWith(
        TX,
        expect.objectContaining({ type: 'user', chatbotId: null, userId: 'u-owner', accountId: 'acc-1' }),
      );
      expect(access.requireReachable).not.toHaveBeenCalled();
    });

    it('are forbidden to members, whatever the call', async () => {
      caller = member;
      const actor = { userId: member.userId };
      await expect(sut.create({ actor, chatbotId: null, name: 'x', keyHash: HASH, prefix: 'usk_12345678' })).rejects.toMatchObject({
        code: 'forbidden',
      });
      await expect(sut.list({ actor, chatbotId: null })).rejects.toMatchObject({ code: 'forbidden' });
      await expect(sut.revoke({ actor, chatbotId: null, keyId: 'key-1' })).rejects.toMatchObject({ code: 'forbidden' });
      expect(keys.insert).not.toHaveBeenCalled();
    });

    it("are looked up among the account's user-level keys", async () => {
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
      await expect(sut.revoke({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1' })).rejects.toMatchObject({
        code: 'key_not_found',
      });
      expect(events.publish).not.toHaveBeenCalled();
    });

    it('checks reach first: an unreachable chatbot is chatbot_not_found', async () => {
      access.requireReachable.mockRejectedValueOnce(Object.assign(new Error('no'), { code: 'chatbot_not_found' }));
      await expect(sut.revoke({ actor: { userId: 'u-owner' }, chatbotId: 'cb-9', keyId: 'key-1' })).rejects.toMatchObject({
        code: 'chatbot_not_found',
      });
      expect(keys.lockActive).not.toHaveBeenCalled();
    });
  });

  it('renames an active key and announces it', async () => {
    const view = await sut.update({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1', name: 'Make' });
    expect(keys.update).toHaveBeenCalledWith(TX, 'key-1', { name: 'Make' });
    expect(view).toMatchObject({ name: 'Make', rateLimit: null });
    expect(events.publish.mock.calls).toEqual([['keyRenamed', { keyId: 'key-1', accountId: 'acc-1' }]]);
  });

  it('sets a rate limit and announces it with the key hash, so that every gateway drops what it cached', async () => {
    const rateLimit = { requests: 100, windowSeconds: 60 };
    const view = await sut.update({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1', rateLimit });
    expect(keys.update).toHaveBeenCalledWith(TX, 'key-1', { rateLimitRequests: 100, rateLimitWindowSeconds: 60 });
    expect(view).toMatchObject({ name: 'Zapier', rateLimit });
    expect(events.publish.mock.calls).toEqual([['keyUpdated', { keyId: 'key-1', keyHash: HASH, accountId: 'acc-1', chatbotId: 'cb-1' }]]);
    expect(audit.record).toHaveBeenCalledWith(
      TX,
      expect.objectContaining({ action: 'key.updated', details: { rateLimit: { old: null, new: rateLimit } } }),
    );
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
    await expect(sut.get({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1' })).rejects.toMatchObject({
      code: 'key_not_found',
    });
    keys.findActive.mockResolvedValueOnce(storedKey());
    await expect(sut.get({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1' })).resolves.toMatchObject({ id: 'key-1' });
  });
  describe('changing a key (PATCH)', () => {
    const ref = { actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId: 'key-1' };

    it('disables a key and announces an update, so every cache reads it again', async () => {
      const view = await sut.update({ ...ref, enabled: false });
      expect(keys.update).toHaveBeenCalledWith(TX, 'key-1', { enabled: false });
      expect(view).toMatchObject({ enabled: false, status: 'disabled' });
      expect(events.publish).toHaveBeenCalledWith('keyUpdated', { keyId: 'key-1', keyHash: HASH, accountId: 'acc-1', chatbotId: 'cb-1' });
      expect(events.publish).not.toHaveBeenCalledWith('keyRenamed', expect.anything());
    });

    it('sets and clears the expiry and the allow-list', async () => {
      const at = new Date(Date.now() + 60_000);
      const view = await sut.update({ ...ref, expiresAt: at.toISOString(), allowedIps: ['10.0.0.0/8'] });
      expect(keys.update).toHaveBeenCalledWith(TX, 'key-1', { expiresAt: at, allowedIps: ['10.0.0.0/8'] });
      expect(view).toMatchObject({ expiresAt: at.toISOString(), allowedIps: ['10.0.0.0/8'], status: 'active' });
      await sut.update({ ...ref, expiresAt: null, allowedIps: null });
      expect(keys.update).toHaveBeenLastCalledWith(TX, 'key-1', { expiresAt: null, allowedIps: null });
    });

    it('announces a rename alone as a rename', async () => {
      await sut.update({ ...ref, name: 'Make' });
      expect(events.publish).toHaveBeenCalledTimes(1);
      expect(events.publish).toHaveBeenCalledWith('keyRenamed', { keyId: 'key-1', accountId: 'acc-1' });
    });

    it('refuses an expiry that is not in the future, and an empty change, before touching anything', async () => {
      await expect(sut.update({ ...ref, expiresAt: new Date(Date.now() - 1).toISOString() })).rejects.toMatchObject({
        code: 'invalid_request',
      });
      await expect(sut.update(ref)).rejects.toMatchObject({ code: 'invalid_request' });
      expect(keys.lockActive).not.toHaveBeenCalled();
      expect(events.publish).not.toHaveBeenCalled();
    });

    it('lists an expired key as expired, and a disabled one as disabled', async () => {
      keys.listActive.mockResolvedValueOnce([
        storedKey({ id: 'k-exp', expiresAt: new Date(Date.now() - 1000), enabled: false }),
        storedKey({ id: 'k-off', enabled: false }),
        storedKey({ id: 'k-grace', revokedAt: new Date(Date.now() + 5000) }),
      ]);
      const { data } = await sut.list({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1' });
      expect(data.map(({ id, status }) => [id, status])).toEqual([
        ['k-exp', 'expired'],
        ['k-off', 'disabled'],
        ['k-grace', 'active'],
      ]);
      // A key in a roll's grace period shows its cut-off as its end.
      expect(Date.parse(data[2].expiresAt!)).toBeGreaterThan(Date.now());
    });
  });

  describe('rolling', () => {
    const NEW_HASH = 'c'.repeat(64);
    const roll = (gracePeriodSeconds: number, keyId = 'key-1') =>
      sut.roll({ actor: { userId: 'u-owner' }, chatbotId: 'cb-1', keyId, gracePeriodSeconds, keyHash: NEW_HASH, prefix: 'cbk_newnewne' });

    it('makes a successor that inherits name, expiry, allow-list and rate limit, without counting toward the limit', async () => {
      const expiresAt = new Date(Date.now() + 3_600_000);
      keys.lockActive.mockResolvedValueOnce(
        storedKey({ expiresAt, allowedIps: ['10.0.0.0/8'], rateLimitRequests: 7, rateLimitWindowSeconds: 2 }),
      );
      activeKeys = KEY_LIMIT_PER_CHATBOT + 5;
      const view = await roll(60);
      expect(keys.countActiveForChatbot).not.toHaveBeenCalled();
      expect(keys.insert).toHaveBeenCalledWith(
        TX,
        expect.objectContaining({
          name: 'Zapier',
          expiresAt,
          allowedIps: ['10.0.0.0/8'],
          rateLimit: { requests: 7, windowSeconds: 2 },
          rolledFrom: 'key-1',
          keyHash: NEW_HASH,
          chatbotId: 'cb-1',
          type: 'chatbot',
        }),
      );
      expect(view).toMatchObject({ id: 'key-new', rolledFrom: 'key-1' });
      const [, , cutOff] = keys.revoke.mock.calls[0] as [unknown, string, Date];
      expect(cutOff.getTime()).toBeGreaterThan(Date.now() + 59_000);
      expect(events.publish).toHaveBeenCalledWith('keyCreated', { keyId: 'key-new', keyHash: NEW_HASH, accountId: 'acc-1' });
      expect(events.publish).toHaveBeenCalledWith('keyUpdated', { keyId: 'key-1', keyHash: HASH, accountId: 'acc-1', chatbotId: 'cb-1' });
    });

    it("never lets the grace period outlast the old key's own expiry", async () => {
      const expiresAt = new Date(Date.now() + 10_000);
      keys.lockActive.mockResolvedValueOnce(storedKey({ expiresAt }));
      await roll(600);
      expect(keys.revoke).toHaveBeenCalledWith(TX, 'key-1', expiresAt);
    });

    it('revokes the old key at once with no grace period, announced as a revocation', async () => {
      await roll(0);
      expect(events.publish).toHaveBeenCalledWith('keyRevoked', { keyId: 'key-1', keyHash: HASH, accountId: 'acc-1', chatbotId: 'cb-1' });
      expect(events.publish).not.toHaveBeenCalledWith('keyUpdated', expect.anything());
    });

    it('cuts off the key the old one replaced when rolling twice in a row', async () => {
      const predecessor = storedKey({ id: 'key-0', keyHash: 'd'.repeat(64), revokedAt: new Date(Date.now() + 60_000) });
      keys.lockActive.mockResolvedValueOnce(storedKey({ rolledFrom: 'key-0' })).mockResolvedValueOnce(predecessor);
      await roll(60);
      expect(keys.lockActive).toHaveBeenLastCalledWith(TX, 'key-0', { chatbotId: 'cb-1' });
      expect(keys.revoke).toHaveBeenCalledWith(TX, 'key-0', expect.any(Date));
      const [, , cutAt] = keys.revoke.mock.calls.find(([, id]) => id === 'key-0') as [unknown, string, Date];
      expect(cutAt.getTime()).toBeLessThanOrEqual(Date.now());
      expect(events.publish).toHaveBeenCalledWith('keyRevoked', {
        keyId: 'key-0',
        keyHash: 'd'.repeat(64),
        accountId: 'acc-1',
        chatbotId: 'cb-1',
      });
    });

    it('refuses a key already rolled (409 conflict), an expired one (409 key_expired) and a revoked one (404)', async () => {
      keys.lockActive.mockResolvedValueOnce(storedKey({ revokedAt: new Date(Date.now() + 60_000) }));
      await expect(roll(60)).rejects.toMatchObject({ code: 'conflict' });
      keys.lockActive.mockResolvedValueOnce(storedKey({ expiresAt: new Date(Date.now() - 1) }));
      await expect(roll(60)).rejects.toMatchObject({ code: 'key_expired' });
      keys.lockActive.mockResolvedValueOnce(null);
      await expect(roll(60)).rejects.toMatchObject({ code: 'key_not_found' });
      expect(keys.insert).not.toHaveBeenCalled();
      expect(events.publish).not.toHaveBeenCalled();
    });

    it('refuses to roll a chatbot key on the free plan', async () => {
      plan = 'free';
      await expect(roll(60)).rejects.toMatchObject({ code: 'plan_not_eligible' });
      expect(keys.insert).not.toHaveBeenCalled();
    });
  });
});
