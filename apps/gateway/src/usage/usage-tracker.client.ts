import { Inject, Injectable } from '@nestjs/common';
import { NatsBus } from '@app/common';
import type { RpcMap, RpcSubject, Subjects } from '@app/contracts';

/** The request subjects the usage-tracker serves: every `usage.query.*` one. */
export type UsageTrackerSubject = { [S in RpcSubject]: (typeof Subjects)[S] extends `usage.query.${string}` ? S : never }[RpcSubject];

/**
 * The gateway's client of the usage-tracker (usage series, last-used times). Errors as with
 * `KeyManagementClient`: the tracker's ApiError, or a BusUnavailableError when it does not answer.
 */
@Injectable()
export class UsageTrackerClient {
  constructor(@Inject(NatsBus) private readonly bus: NatsBus) {}

  request<S extends UsageTrackerSubject>(subject: S, payload: RpcMap[S]['request'], timeoutMs?: number): Promise<RpcMap[S]['reply']> {
    return this.bus.request(subject, payload, timeoutMs);
  }
}
