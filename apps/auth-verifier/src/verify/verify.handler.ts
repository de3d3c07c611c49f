import { BusHandlers, type NatsBus } from '@app/common';
import { QueueGroups, verifyOutcomeOf, verifyWireReply, type VerifyReply, type VerifyRequest } from '@app/contracts';
import type { VerifyService } from './verify.service.js';
import type { VerifyMetrics } from './verify.metrics.js';

/**
 * Serves `auth.verify` in the verifiers' queue group: one replica answers each request.
 * A verify that throws is answered `{valid:false, code:'auth_unavailable'}` by NatsBus.
 */
export class VerifyHandler extends BusHandlers {
  constructor(
    private readonly bus: NatsBus,
    private readonly verifier: VerifyService,
    private readonly metrics: VerifyMetrics,
  ) {
    super();
  }

  protected subscribe() {
    return [this.bus.serve('authVerify', QueueGroups.authVerifier, (request) => this.verify(request), { reply: verifyWireReply })];
  }

  async verify(request: VerifyRequest): Promise<VerifyReply> {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const reply = await this.verifier.verify(request);
      this.metrics.verified(verifyOutcomeOf(reply), seconds());
      return reply;
    } catch (error) {
      this.metrics.verified('auth_unavailable', seconds());
      throw error;
    }
  }
}
