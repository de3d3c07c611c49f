import { Inject, Injectable } from '@nestjs/common';
import type { LeakedKeysReply, LeakedKeysReport } from '@app/contracts';
import { AuditLog, SYSTEM_ACTOR } from '../audit/audit-log.js';
import type { ApiKeyEntity } from '../database/entities/index.js';
import { Transactions } from '../database/transactions.js';
import { EventPublisher } from '../events/event-publisher.js';
import { keysRevoked } from '../events/event-metrics.js';
import { KeysRepository } from './keys.repository.js';

/**
 * Revokes every live key of a leak report (the gateway checked its signature and sent
 * hashes only), each with a `key.leaked` event, then announces the revocations the same
 * way a DELETE does. A token reported twice is a true positive both times.
 */
@Injectable()
export class LeakedKeysService {
  constructor(
    @Inject(KeysRepository) private readonly keys: KeysRepository,
    @Inject(Transactions) private readonly transactions: Transactions,
    @Inject(EventPublisher) private readonly events: EventPublisher,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async report(request: LeakedKeysReport): Promise<LeakedKeysReply> {
    const revoked = await this.transactions.run(async (tx) => {
      const found = new Map<string, ApiKeyEntity>();
      const now = new Date();
      for (const token of request.tokens) {
        if (found.has(token.keyHash)) continue;
        const key = await this.keys.lockActiveByHash(tx, token.keyHash);
        if (!key) continue;
        await this.keys.revoke(tx, key.id, now);
        await this.audit.record(tx, {
          action: 'key.leaked',
          actor: SYSTEM_ACTOR,
          origin: request.origin,
          accountId: key.accountId,
          chatbotId: key.chatbotId,
          keyId: key.id,
          details: { url: token.url, source: token.source },
        });
        found.set(token.keyHash, key);
      }
      return found;
    });
    keysRevoked.inc({ reason: 'leaked' }, revoked.size);
    for (const key of revoked.values()) {
      this.events.publish('keyRevoked', { keyId: key.id, keyHash: key.keyHash, accountId: key.accountId, chatbotId: key.chatbotId });
    }
    return { revoked: request.tokens.map((token) => revoked.has(token.keyHash)) };
  }
}
