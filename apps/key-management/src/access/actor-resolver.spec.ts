import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { automock } from '@app/testing';
import type { UserEntity } from '../database/entities/index.js';
import { UsersRepository } from '../users/users.repository.js';
import { ActorResolver } from './actor-resolver.js';

const user: UserEntity = {
  id: 'u-1',
  accountId: 'acc-1',
  email: 'a@example.test',
  role: 'admin',
  ssoSubject: 'okta|1',
  createdAt: new Date(),
};

describe(ActorResolver.name, () => {
  let sut: ActorResolver;
  const users = automock(UsersRepository);

  beforeEach(() => {
    jest.clearAllMocks();
    users.findById.mockResolvedValue(null);
    users.findBySsoSubject.mockResolvedValue(null);
    sut = new ActorResolver(users);
  });

  it('resolves a key holder and an SSO subject to the user as stored now', async () => {
    users.findById.mockResolvedValueOnce(user);
    await expect(sut.resolve({ userId: 'u-1' })).resolves.toEqual({ userId: 'u-1', accountId: 'acc-1', role: 'admin' });
    users.findBySsoSubject.mockResolvedValueOnce({ ...user, role: 'member' });
    await expect(sut.resolve({ ssoSubject: 'okta|1' })).resolves.toEqual({ userId: 'u-1', accountId: 'acc-1', role: 'member' });
  });

  it('answers invalid_api_key for a key holder that no longer exists', async () => {
    await expect(sut.resolve({ userId: 'u-gone' })).rejects.toMatchObject({ code: 'invalid_api_key' });
  });

  it('answers invalid_token for an SSO subject that matches no user', async () => {
    await expect(sut.resolve({ ssoSubject: 'okta|nobody' })).rejects.toMatchObject({ code: 'invalid_token' });
  });
});
