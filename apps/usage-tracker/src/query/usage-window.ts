import { MAX_USAGE_POINTS, type UsageInterval, type UsagePoint, type UsageQuery } from '@app/contracts';
import { ApiError } from '@app/common';

export const INTERVAL_MS: Record<UsageInterval, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
export const DEFAULT_RANGE_MS = 24 * 3_600_000;
export const DEFAULT_INTERVAL: UsageInterval = 'hour';

/**
 * The points one usage answer covers: intervals of `intervalMs` starting at `startMs`
 * (`from` rounded down to a UTC minute, hour or day), up to `toMs` (exclusive).
 * Uses are stored per minute, so a `to` inside a minute includes that whole minute.
 */
export interface UsageWindow {
  interval: UsageInterval;
  intervalMs: number;
  startMs: number;
  toMs: number;
  points: number;
}

/** Validates and resolves a query: defaults to the last 24 hours by hour. */
export function resolveUsageWindow(query: Omit<UsageQuery, 'keyId'>, nowMs = Date.now()): UsageWindow {
  const toMs = query.to !== undefined ? instant(query.to, 'to') : nowMs;
  const fromMs = query.from !== undefined ? instant(query.from, 'from') : toMs - DEFAULT_RANGE_MS;
  if (fromMs > toMs) throw new ApiError('invalid_request', '`from` is after `to`');
  const interval = query.interval ?? DEFAULT_INTERVAL;
  const intervalMs = INTERVAL_MS[interval];
  const startMs = Math.floor(fromMs / intervalMs) * intervalMs;
  const points = fromMs === toMs ? 0 : Math.ceil((toMs - startMs) / intervalMs);
  if (points > MAX_USAGE_POINTS) {
    throw new ApiError(
      'invalid_request',
      `the range holds ${points} ${interval} points; at most ${MAX_USAGE_POINTS}: shorten it or use a larger interval`,
    );
  }
  return { interval, intervalMs, startMs, toMs, points };
}

function instant(value: string, field: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new ApiError('invalid_request', `\`${field}\` is not an ISO-8601 time`);
  return ms;
}

/**
 * Minute points are answered only where minute rows are kept (USAGE_MINUTE_RETENTION_DAYS), hour
 * points only where hour rows are (USAGE_HOUR_RETENTION_DAYS): a window starting before that is
 * `invalid_request` naming the first time it may start, never points that spread a coarser count.
 */
export function requireKeptResolution(window: UsageWindow, horizons: { minutesFrom: number | null; hoursFrom: number | null }): void {
  const keptFrom = window.interval === 'minute' ? horizons.minutesFrom : window.interval === 'hour' ? horizons.hoursFrom : null;
  if (keptFrom !== null && window.startMs < keptFrom) {
    throw new ApiError(
      'invalid_request',
      `${window.interval} points are kept from ${new Date(keptFrom).toISOString()} on: start the range there or use a larger interval`,
    );
  }
}

/** What one point of a series counts: uses, and requests the key's rate limit refused. */
export interface PointCounts {
  count: number;
  refused: number;
}

/** One point per interval, zeros included; `counts` maps a point index to its uses. */
export function densePoints(window: UsageWindow, counts: ReadonlyMap<number, PointCounts>): UsagePoint[] {
  const data: UsagePoint[] = [];
  for (let index = 0; index < window.points; index++) {
    const point = counts.get(index);
    data.push({
      start: new Date(window.startMs + index * window.intervalMs).toISOString(),
      count: point?.count ?? 0,
      refused: point?.refused ?? 0,
    });
  }
  return data;
}
