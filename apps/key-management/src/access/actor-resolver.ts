import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import type { Actor } from '@app/contracts';
import { UsersRepository } from '../users/users.repository.js';
import type { ResolvedActor } from './resolved-actor.js';

/**
 * Resolves the caller on every call, so a role change or a removed user takes effect
 * on the next request. An unknown key holder answers like an unknown key; an unknown
 * SSO subject like a token that matches no user.
 */
@Injectable()
export class ActorResolver {
  constructor(@Inject(UsersRepository) private readonly users: UsersRepository) {}

  async resolve(actor: Actor): Promise<ResolvedActor> {
    if ('userId' in actor) {
      const user = await this.users.findById(actor.userId);
      if (!user) throw new ApiError('invalid_api_key', 'the API key is not valid');
      return { userId: user.id, accountId: user.accountId, role: user.role };
    }
    const user = await this.users.findBySsoSubject(actor.ssoSubject);
    if (!user) throw new ApiError('invalid_token', 'the token matches no user');
    return { userId: user.id, accountId: user.accountId, role: user.role };
  }
}
