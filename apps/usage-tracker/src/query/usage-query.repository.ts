import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PointCounts, UsageWindow } from './usage-window.js';

/** Reads the usage tables: sums of minute buckets per point, and last-used times. */
@Injectable()
export class UsageQueryRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** Point index → uses and refusals, for the points of the window that have any. */
  async countsByPoint(keyId: string, window: UsageWindow): Promise<Map<number, PointCounts>> {
    const rows = await this.dataSource.query<{ point: number; count: string; refused: string }[]>(
      `SELECT floor((extract(epoch FROM "minute") * 1000 - $2) / $3)::int AS point,
              sum("count")::text AS count, sum("refused")::text AS refused
         FROM "usage"."key_usage_minutes"
        WHERE "key_id" = $1 AND "minute" >= $4 AND "minute" < $5
        GROUP BY 1`,
      [keyId, window.startMs, window.intervalMs, new Date(window.startMs).toISOString(), new Date(window.toMs).toISOString()],
    );
    return new Map(rows.map((row) => [row.point, { count: Number(row.count), refused: Number(row.refused) }]));
  }

  async lastUsed(keyIds: readonly string[]): Promise<Map<string, Date>> {
    if (keyIds.length === 0) return new Map();
    const rows = await this.dataSource.query<{ key_id: string; last_used_at: Date }[]>(
      // Each key's newest minute row, found by walking its primary key backwards.
      `SELECT k."key_id", m."last_used_at"
         FROM unnest($1::varchar[]) AS k ("key_id")
         CROSS JOIN LATERAL (
           SELECT "last_used_at" FROM "usage"."key_usage_minutes"
            WHERE "key_id" = k."key_id" AND "last_used_at" IS NOT NULL ORDER BY "minute" DESC LIMIT 1) AS m`,
      [keyIds],
    );
    return new Map(rows.map((row) => [row.key_id, row.last_used_at]));
  }
}
