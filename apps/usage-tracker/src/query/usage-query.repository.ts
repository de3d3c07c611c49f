import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PointCounts, UsageWindow } from './usage-window.js';

/** Where each resolution stops being kept (null: nothing dropped yet). */
export interface UsageHorizons {
  minutesFrom: number | null;
  hoursFrom: number | null;
}

/**
 * Reads the usage tables. Each time is read from exactly one resolution, split by the horizons in
 * the same statement: minute rows from `minutes_from` on; before it, hour rows (complete there:
 * the rollup reached it before the horizon moved) plus late uses not yet folded into them; before
 * `hours_from`, day rows plus late uses. So a range across resolutions sums exactly.
 */
@Injectable()
export class UsageQueryRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async horizons(): Promise<UsageHorizons> {
    const [row] = await this.dataSource.query<
      {
        minutes_from: Date | null;
        hours_from: Date | null;
      }[]
    >(`SELECT "minutes_from", "hours_from" FROM "usage"."usage_rollup_state" WHERE "id" = 1`);
    return { minutesFrom: row?.minutes_from?.getTime() ?? null, hoursFrom: row?.hours_from?.getTime() ?? null };
  }

  /** Point index → uses and refusals, for the points of the window that have any. */
  async countsByPoint(keyId: string, window: UsageWindow): Promise<Map<number, PointCounts>> {
    const rows = await this.dataSource.query<{ point: number; count: string; refused: string }[]>(
      `WITH "h" AS (SELECT "minutes_from", "hours_from" FROM "usage"."usage_rollup_state" WHERE "id" = 1),
       "rows" AS (
         SELECT m."minute" AS "at", m."count", m."refused" FROM "usage"."key_usage_minutes" AS m, "h"
          WHERE m."key_id" = $1 AND m."minute" >= $4 AND m."minute" < $5 AND (h."minutes_from" IS NULL OR m."minute" >= h."minutes_from")
         UNION ALL
         SELECT o."hour", o."count", o."refused" FROM "usage"."key_usage_hours" AS o, "h"
          WHERE o."key_id" = $1 AND o."hour" >= $4 AND o."hour" < $5 AND o."hour" < h."minutes_from"
            AND (h."hours_from" IS NULL OR o."hour" >= h."hours_from")
         UNION ALL
         SELECT d."day", d."count", d."refused" FROM "usage"."key_usage_days" AS d, "h"
          WHERE d."key_id" = $1 AND d."day" >= $4 AND d."day" < $5 AND d."day" < h."hours_from"
         UNION ALL
         SELECT l."minute", l."count", l."refused" FROM "usage"."key_usage_late" AS l, "h"
          WHERE l."key_id" = $1 AND l."minute" >= $4 AND l."minute" < $5 AND l."minute" < h."minutes_from"
       )
       SELECT floor((extract(epoch FROM "at") * 1000 - $2) / $3)::int AS point,
              sum("count")::text AS count, sum("refused")::text AS refused
         FROM "rows" GROUP BY 1`,
      [keyId, window.startMs, window.intervalMs, new Date(window.startMs).toISOString(), new Date(window.toMs).toISOString()],
    );
    return new Map(rows.map((row) => [row.point, { count: Number(row.count), refused: Number(row.refused) }]));
  }

  async lastUsed(keyIds: readonly string[]): Promise<Map<string, Date>> {
    if (keyIds.length === 0) return new Map();
    const rows = await this.dataSource.query<{ key_id: string; last_used_at: Date | null }[]>(
      `SELECT k."key_id", COALESCE(
           (SELECT "last_used_at" FROM "usage"."key_usage_minutes"
             WHERE "key_id" = k."key_id" AND "last_used_at" IS NOT NULL ORDER BY "minute" DESC LIMIT 1),
           GREATEST(
             (SELECT "last_used_at" FROM "usage"."key_usage_hours"
               WHERE "key_id" = k."key_id" AND "last_used_at" IS NOT NULL ORDER BY "hour" DESC LIMIT 1),
             (SELECT max("last_used_at") FROM "usage"."key_usage_late" WHERE "key_id" = k."key_id")),
           (SELECT "last_used_at" FROM "usage"."key_usage_days"
             WHERE "key_id" = k."key_id" AND "last_used_at" IS NOT NULL ORDER BY "day" DESC LIMIT 1)) AS "last_used_at"
         FROM unnest($1::varchar[]) AS k ("key_id")`,
      [keyIds],
    );
    return new Map(rows.filter((row) => row.last_used_at !== null).map((row) => [row.key_id, row.last_used_at as Date]));
  }
}
