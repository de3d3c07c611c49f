import type { ApiClient } from '../api/client';
import type { UsageInterval, UsageSeries } from '../api/types';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The ranges offered, and the intervals that keep each under the API's 1,500 points. */
export const USAGE_RANGES = [
  { id: '1h', label: 'Last hour', ms: HOUR, intervals: ['minute', 'hour'] },
  { id: '24h', label: 'Last 24 hours', ms: DAY, intervals: ['minute', 'hour', 'day'] },
  { id: '7d', label: 'Last 7 days', ms: 7 * DAY, intervals: ['hour', 'day'] },
  { id: '30d', label: 'Last 30 days', ms: 30 * DAY, intervals: ['hour', 'day'] },
  { id: '90d', label: 'Last 90 days', ms: 90 * DAY, intervals: ['day'] },
] as const satisfies readonly { id: string; label: string; ms: number; intervals: readonly UsageInterval[] }[];

export type UsageRangeId = (typeof USAGE_RANGES)[number]['id'];

export function usagePath(keyPath: string, rangeMs: number, interval: UsageInterval, now = Date.now()): string {
  const query = new URLSearchParams({
    from: new Date(now - rangeMs).toISOString(),
    to: new Date(now).toISOString(),
    interval,
  });
  return `${keyPath}/usage?${query}`;
}

export function fetchUsage(api: ApiClient, keyPath: string, rangeMs: number, interval: UsageInterval): Promise<UsageSeries> {
  return api.get<UsageSeries>(usagePath(keyPath, rangeMs, interval));
}

/** The last 7 days, one bar per day (the keys table's sparkline). */
export function fetchWeek(api: ApiClient, keyPath: string): Promise<UsageSeries> {
  return fetchUsage(api, keyPath, 7 * DAY, 'day');
}
