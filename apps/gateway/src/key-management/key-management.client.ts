import { Inject, Injectable } from '@nestjs/common';
import { NatsBus } from '@app/common';
import type { RpcMap, RpcSubject, Subjects } from '@app/contracts';

/** The request subjects key-management serves: every `keys.*` one (admin, management, leak reports, lookups). */
export type KeyManagementSubject = { [S in RpcSubject]: (typeof Subjects)[S] extends `keys.${string}` ? S : never }[RpcSubject];

/**
 * The gateway's client of key-management, the owner of accounts, chatbots, users and keys. A refusal
 * comes back as the ApiError key-management answered (its code and message); no answer at all as a
 * BusUnavailableError, which the HTTP layer turns into 503.
 */
@Injectable()
export class KeyManagementClient {
  constructor(@Inject(NatsBus) private readonly bus: NatsBus) {}

  request<S extends KeyManagementSubject>(subject: S, payload: RpcMap[S]['request']): Promise<RpcMap[S]['reply']> {
    return this.bus.request(subject, payload);
  }
}
