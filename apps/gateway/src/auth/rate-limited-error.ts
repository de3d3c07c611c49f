import { ApiError } from '@app/common';

/** `429 rate_limited`, carrying how long the client should wait (the `Retry-After` header, in seconds). */
export class RateLimitedError extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super('rate_limited', 'too many invalid keys from this client; retry later', { 'Retry-After': String(retryAfterSeconds) });
  }
}
