import type { ServerResponse } from 'node:http';
import { ApiError } from '@app/common';
import type { RateLimitDecision } from './window-counter.js';

/**
 * The key's policy and what is left of it, as draft-ietf-httpapi-ratelimit-headers structured
 * fields. Set on the raw response, so that both an error answer and a relayed upstream answer
 * carry them.
 */
export function setRateLimitHeaders(response: ServerResponse, decision: RateLimitDecision): void {
  response.setHeader('RateLimit-Policy', `"key";q=${decision.limit.requests};w=${decision.limit.windowSeconds}`);
  response.setHeader('RateLimit', `"key";r=${decision.remaining};t=${decision.resetSeconds}`);
}

/** `429 rate_limited`: the key's own budget for this window is spent; it resets in `Retry-After` seconds. */
export function keyRateLimited(decision: RateLimitDecision): ApiError {
  return new ApiError('rate_limited', "the API key's rate limit is reached; retry when its window resets", {
    'Retry-After': String(decision.resetSeconds),
  });
}
