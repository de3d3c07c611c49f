import { Inject, Injectable } from '@nestjs/common';
import { BusUnavailableError, NatsBus } from '@app/common';
import type { VerifyRequest } from '@app/contracts';

/** The gateway's client of the auth-verifier: `auth.verify`, answered with its bare reply. */
@Injectable()
export class VerifyClient {
  constructor(@Inject(NatsBus) private readonly bus: NatsBus) {}

  /**
   * The reply as received, for `parseVerifyReply` to read. Verifying changes nothing, so it is
   * asked twice within `timeoutMs` if need be: a verifier replica that dies holding the request
   * (a crash, a kill) costs a retry that another replica answers, not a 503 for every caller
   * waiting on it.
   */
  async verify(request: VerifyRequest, timeoutMs: number): Promise<unknown> {
    const firstAttemptMs = Math.max(1, Math.floor(timeoutMs / 2));
    try {
      return await this.bus.requestBare('authVerify', request, firstAttemptMs);
    } catch (error) {
      if (!(error instanceof BusUnavailableError) || !this.bus.connected || timeoutMs - firstAttemptMs < 1) throw error;
      return this.bus.requestBare('authVerify', request, timeoutMs - firstAttemptMs);
    }
  }
}
