import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '@app/common';
import type { Actor } from '@app/contracts';
import { KeyAuthenticator } from '../../auth/key-authenticator.js';
import { isJwtShaped } from './credential-kind.js';
import { SsoTokenVerifier } from '../../sso/sso-token-verifier.js';
import { attachActor } from './current-actor.decorator.js';
import { clientAddress } from '../../http/client-address.js';

/**
 * Authenticates a management call: an SSO token (JWT) goes to the SSO verifier, anything
 * else is verified as an API key for an account-level route (no chatbot), where the
 * verifier already answers a chatbot key with `insufficient_scope`.
 */
@Injectable()
export class ManagementAuthGuard implements CanActivate {
  constructor(
    @Inject(KeyAuthenticator) private readonly keys: KeyAuthenticator,
    @Inject(SsoTokenVerifier) private readonly sso: SsoTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const credential = this.keys.presentedKey(request.headers);
    if (credential === null) {
      throw new ApiError('missing_api_key', 'send a user-level API key or an SSO token in Authorization: Bearer');
    }
    const actor = isJwtShaped(credential) ? await this.sso.verify(credential) : await this.actorForKey(credential, clientAddress(request));
    attachActor(request, actor);
    return true;
  }

  private async actorForKey(credential: string, clientAddress: string): Promise<Actor> {
    const verified = await this.keys.authenticate(credential, null, clientAddress);
    // Only user-level keys act for a user; the verifier refuses chatbot keys on account routes already.
    if (verified.type !== 'user' || verified.userId === null) {
      throw new ApiError('insufficient_scope', 'chatbot keys cannot use the management API');
    }
    return { userId: verified.userId };
  }
}
