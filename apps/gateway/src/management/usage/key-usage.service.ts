import { Inject, Injectable } from '@nestjs/common';
import { BusUnavailableError, LOGGER, type Logger } from '@app/common';
import type { Actor, KeyView, UsageSeries } from '@app/contracts';
import { KeyManagementClient } from '../../key-management/key-management.client.js';
import { UsageTrackerClient } from '../../usage/usage-tracker.client.js';
import type { UsageQueryParams } from './usage-query.js';

/** Listing keys should not wait long on usage: past this, keys are listed without `lastUsedAt`. */
const LAST_USED_TIMEOUT_MS = 1000;

/**
 * Usage as the management API shows it. Key-management owns keys and the usage-tracker
 * owns usage; the gateway joins the two, and key-management decides who may see a key.
 */
@Injectable()
export class KeyUsageService {
  constructor(
    @Inject(KeyManagementClient) private readonly keyManagement: KeyManagementClient,
    @Inject(UsageTrackerClient) private readonly usageTracker: UsageTrackerClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Fills `lastUsedAt` from the usage-tracker; if it cannot answer in time the keys are still listed, with a warning logged. */
  async withLastUsed<View extends KeyView>(views: View[]): Promise<View[]> {
    if (views.length === 0) return views;
    try {
      const lastUsed = await this.usageTracker.request('usageLastUsed', { keyIds: views.map((view) => view.id) }, LAST_USED_TIMEOUT_MS);
      return views.map((view) => ({ ...view, lastUsedAt: lastUsed[view.id] ?? null }));
    } catch (error) {
      if (!(error instanceof BusUnavailableError)) throw error;
      this.logger.warn({ subject: error.subject }, 'usage-tracker did not answer; keys listed without lastUsedAt');
      return views;
    }
  }

  /** One key's usage series, once key-management has confirmed the actor may see that key. */
  async series(actor: Actor, chatbotId: string | null, keyId: string, query: UsageQueryParams): Promise<UsageSeries> {
    await this.keyManagement.request('getKey', { actor, chatbotId, keyId });
    return this.usageTracker.request('usageQuery', { keyId, ...query });
  }
}
