import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError, brakeBucket, CONFIG } from '@app/common';
import type { GatewayConfig } from '../config.js';
import { FailureThrottle } from '../auth/failure-throttle.js';
import { RateLimitedError } from '../auth/rate-limited-error.js';
import { clientAddress } from '../http/client-address.js';

const BEARER = /^Bearer +(\S+) *$/i;

/** Fixed-length digests let the comparison take the same time whatever the presented token's length. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Guards `/admin/v1`. With no ADMIN_TOKEN configured the admin API does not exist: every
 * route answers 404 `not_found`, the same as an unknown route.
 *
 * docs/api.md (Errors) names no admin-specific code, so the admin token is treated as what it is on
 * the wire, a bearer credential presented like an API key: absent → `401 missing_api_key`,
 * wrong → `401 invalid_api_key`. `invalid_token` is not used because docs/api.md defines it
 * for SSO tokens (expired, wrongly signed, unmatched), which would send an operator looking
 * at an identity provider that plays no part here.
 *
 * Wrong guesses are braked like invalid keys: a client address with 50 in a minute gets
 * `429 rate_limited` on every admin call (the right token too, or the brake would tell a guess
 * that hit) until the oldest leaves the window.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;
  private readonly guesses: FailureThrottle;

  constructor(@Inject(CONFIG) config: GatewayConfig) {
    this.expected = config.adminToken ? digest(config.adminToken) : null;
    this.guesses = new FailureThrottle();
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expected === null) throw new ApiError('not_found', 'no such route');
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const { authorization } = request.headers;
    const presented = typeof authorization === 'string' ? BEARER.exec(authorization)?.[1] : undefined;
    if (!presented) throw new ApiError('missing_api_key', 'send the admin token in Authorization: Bearer');
    const client = brakeBucket(clientAddress(request));
    const waitMs = this.guesses.retryAfterMs(client, Date.now());
    if (waitMs > 0) throw new RateLimitedError(Math.ceil(waitMs / 1000), 'too many wrong admin tokens from this client; retry later');
    if (!timingSafeEqual(digest(presented), this.expected)) {
      this.guesses.recordFailure(client, Date.now());
      throw new ApiError('invalid_api_key', 'the admin token is not valid');
    }
    return true;
  }
}
