import { ApiError, type Logger, type NatsBus, RateLimitedLog } from '@app/common';
import type { LookupAccountReply, LookupChatbotReply, LookupKeyReply, RpcMap } from '@app/contracts';

type LookupSubject = 'lookupKey' | 'lookupAccount' | 'lookupChatbot';

/**
 * Asks key-management (the only owner of the data) on a cache miss. When it cannot be
 * asked the verify fails with `auth_unavailable`: never answer valid without knowing.
 */
export class KeyManagementClient {
  private readonly failures: RateLimitedLog;

  constructor(
    private readonly bus: NatsBus,
    private readonly timeoutMs: number,
    logger: Logger,
  ) {
    this.failures = new RateLimitedLog(logger);
  }

  lookupKey(keyHash: string): Promise<LookupKeyReply> {
    return this.ask('lookupKey', { keyHash });
  }

  lookupAccount(accountId: string): Promise<LookupAccountReply> {
    return this.ask('lookupAccount', { accountId });
  }

  lookupChatbot(chatbotId: string): Promise<LookupChatbotReply> {
    return this.ask('lookupChatbot', { chatbotId });
  }

  private async ask<S extends LookupSubject>(subject: S, payload: RpcMap[S]['request']): Promise<RpcMap[S]['reply']> {
    try {
      return await this.bus.request(subject, payload, this.timeoutMs);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.failures.warn({ subject, reason }, 'key-management lookup failed: verifications without a cached answer fail closed');
      throw new ApiError('auth_unavailable', 'key-management could not be asked');
    }
  }
}
