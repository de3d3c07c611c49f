import { ApiError } from '@app/common';

/** `429 rate_limited`, carrying how long the client should wait (the `Retry-After` header, in seconds). */
export class RateLimitedError extends ApiError {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'too many invalid keys from this client; retry later',
  ) {
    super('rate_limited', message, { 'Retry-After': String(retryAfterSeconds) });
  }
}
