import { ERROR_STATUS, type ErrorBody, type ErrorCode } from '@app/contracts';

/** An error the caller is meant to see: a contract error code and a human-readable message. */
export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Response headers that belong with the error, e.g. `Retry-After` on 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}
