import { ApiError } from '@app/common';
import type { ErrorCode, RateLimit } from '@app/contracts';

/** A valid key's identity and rate limit, what a refusal of it still reports. */
export interface KeyLimit {
  keyId: string;
  rateLimit: RateLimit | null;
}

/**
 * A valid key refused for this request (out of its reach, its plan, its allow-list): the answer
 * still describes the key's rate limit, which this error carries (null for a key without one).
 */
export class ValidKeyRefusal extends ApiError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly key: KeyLimit,
  ) {
    super(code, message);
  }
}
