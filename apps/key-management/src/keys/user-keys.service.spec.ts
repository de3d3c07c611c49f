import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { ApiKeyEntity, UserEntity } from '../database/entities/index.js';
import { automock } from '@app/testing';
import { UsersRepository } from '../users/users.repository.js';
import { DuplicateKeyHashError, KeysRepository } from './keys.repository.js';
import { UserKeysService } from './user-keys.service.js';
import { TX, writeServiceMocks } from '../../test/write-service-mocks.js';

const HASH = 'b'.repeat(64);
const holder = (role: UserEntity['role']): UserEntity => ({
  id: 'u-1',
  accountId: 'acc-1',
  email: 'a@example.test',
  role,
  ssoSubject: null,
  createdAt: new Date(),
});

describe(UserKeysService.name, () => {
  let sut: UserKeysService;
  const users = automock(UsersRepository);
  const keys = automock(KeysRepository);
  const { transactions, events, audit, primeWriteMocks } = writeServiceMocks();

  beforeEach(() => {
    jest.clearAllMocks();
    users.findById.mockResolvedValue(holder('owner'));
    keys.insert.mockImplementation(async (_tx, key) => ({ ...key, id: 'key-1', createdAt: new Date(), revokedAt: null }) as ApiKeyEntity);
    primeWriteMocks();
    sut = new UserKeysService(users, keys, transactions, events, audit);
  });

  it('issues a user-level key held by the user, and announces it', async () => {
    const view = await sut.create({ userId: 'u-1', name: 'Ops', keyHash: HASH, prefix: 'usk_12345678' });
    expect(keys.insert).toHaveBeenCalledWith(
      TX,
      expect.objectContaining({ type: 'user', userId: 'u-1', createdBy: 'u-1', chatbotId: null, legacy: false }),
    );
    expect(view).toMatchObject({ id: 'key-1', type: 'user', chatbotId: null, lastUsedAt: null });
    expect(events.publish).toHaveBeenCalledWith('keyCreated', { keyId: 'key-1', keyHash: HASH, accountId: 'acc-1' });
  });

  it('imports a legacy key by hash, marked legacy, without a prefix', async () => {
    await sut.importLegacy({ userId: 'u-1', keyHash: HASH, prefix: null });
    expect(keys.insert).toHaveBeenCalledWith(TX, expect.objectContaining({ legacy: true, prefix: null, keyHash: HASH }));
  });

  it('refuses members (forbidden) and unknown users (user_not_found)', async () => {
    users.findById.mockResolvedValueOnce(holder('member'));
    await expect(sut.create({ userId: 'u-1', name: 'x', keyHash: HASH, prefix: 'usk_1' })).rejects.toMatchObject({ code: 'forbidden' });
    users.findById.mockResolvedValueOnce(holder('member'));
    await expect(sut.importLegacy({ userId: 'u-1', keyHash: HASH, prefix: null })).rejects.toMatchObject({ code: 'forbidden' });
    users.findById.mockResolvedValueOnce(null);
    await expect(sut.importLegacy({ userId: 'u-9', keyHash: HASH, prefix: null })).rejects.toMatchObject({ code: 'user_not_found' });
    expect(keys.insert).not.toHaveBeenCalled();
  });

  it('answers conflict for a hash already stored', async () => {
    keys.insert.mockRejectedValueOnce(new DuplicateKeyHashError());
    await expect(sut.importLegacy({ userId: 'u-1', keyHash: HASH, prefix: null })).rejects.toMatchObject({ code: 'conflict' });
    expect(events.publish).not.toHaveBeenCalled();
  });
});
