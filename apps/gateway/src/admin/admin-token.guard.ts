import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError, CONFIG } from '@app/common';
import type { GatewayConfig } from '../config.js';

const BEARER = /^Bearer +(\S+) *$/i;

/** Fixed-length digests let the comparison take the same time whatever the presented token's length. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Guards `/admin/v1`. With no ADMIN_TOKEN configured the admin API does not exist: every
 * route answers 404 `not_found`, the same as an unknown route.
 *
 * The contract names no admin-specific code, so the admin token is treated as what it is on
 * the wire, a bearer credential presented like an API key: absent → `401 missing_api_key`,
 * wrong → `401 invalid_api_key`. `invalid_token` is not used because the contract defines it
 * for SSO tokens (expired, wrongly signed, unmatched), which would send an operator looking
 * at an identity provider that plays no part here.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(CONFIG) config: GatewayConfig) {
    this.expected = config.adminToken ? digest(config.adminToken) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expected === null) throw new ApiError('not_found', 'no such route');
    const { authorization } = context.switchToHttp().getRequest<FastifyRequest>().headers;
    const presented = typeof authorization === 'string' ? BEARER.exec(authorization)?.[1] : undefined;
    if (!presented) throw new ApiError('missing_api_key', 'send the admin token in Authorization: Bearer');
    if (!timingSafeEqual(digest(presented), this.expected)) throw new ApiError('invalid_api_key', 'the admin token is not valid');
    return true;
  }
}
