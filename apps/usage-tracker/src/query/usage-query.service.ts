import { Inject, Injectable } from '@nestjs/common';
import type { LastUsedQuery, LastUsedReply, UsageQuery, UsageSeries } from '@app/contracts';
import { UsageQueryRepository } from './usage-query.repository.js';
import { densePoints, requireKeptResolution, resolveUsageWindow, type PointCounts } from './usage-window.js';

/**
 * Answers usage questions about keys by id. Whether the caller may see a key is decided
 * before the question reaches the tracker (key-management owns keys and access).
 */
@Injectable()
export class UsageQueryService {
  constructor(@Inject(UsageQueryRepository) private readonly repository: UsageQueryRepository) {}

  async series(query: UsageQuery, nowMs = Date.now()): Promise<UsageSeries> {
    const window = resolveUsageWindow(query, nowMs);
    if (window.points > 0 && window.interval !== 'day') requireKeptResolution(window, await this.repository.horizons());
    const counts = window.points > 0 ? await this.repository.countsByPoint(query.keyId, window) : new Map<number, PointCounts>();
    const data = densePoints(window, counts);
    return { data, total: data.reduce((sum, point) => sum + point.count, 0) };
  }

  async lastUsed(query: LastUsedQuery): Promise<LastUsedReply> {
    const found = await this.repository.lastUsed([...new Set(query.keyIds)]);
    return Object.fromEntries(query.keyIds.map((keyId) => [keyId, found.get(keyId)?.toISOString() ?? null]));
  }
}
