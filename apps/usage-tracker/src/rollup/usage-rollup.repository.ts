import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import { inTransaction } from '@app/common';
import {
  createPartitionStatements,
  HOURS_OTHER,
  HOUR_MS,
  MINUTES_OTHER,
  partitionRangeEnd,
  startOfUtcDay,
  type PartitionSpec,
} from '../database/usage-partitions.js';

/**
 * The lease: every maintenance transaction first takes this transaction-level advisory lock, or
 * gives up at once when another replica holds it. Transactions of two replicas therefore never
 * overlap (whatever their clocks or pauses), and a transaction's lock ends with it, so a crashed
 * replica holds nothing. Transaction-scoped, so it works through a transaction-pooling PgBouncer.
 */
export const MAINTENANCE_LOCK = 0x7573_6167_6530n;

export class MaintenanceBusy extends Error {
  constructor() {
    super('another usage-tracker replica holds the maintenance lock');
  }
}

export interface RollupState {
  lateBefore: number;
  rolledTo: number;
  minutesFrom: number | null;
  hoursFrom: number | null;
}

interface StateRow {
  late_before: Date;
  rolled_to: Date;
  minutes_from: Date | null;
  hours_from: Date | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The rollup's statements. Each method is one transaction under the maintenance lock; each leaves
 * the tables exact whether or not the next one ever runs (a crash between two is a pause).
 */
@Injectable()
export class UsageRollupRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async state(runner?: QueryRunner): Promise<RollupState> {
    const [row] = (await (runner ?? this.dataSource).query(
      `SELECT "late_before", "rolled_to", "minutes_from", "hours_from" FROM "usage"."usage_rollup_state" WHERE "id" = 1`,
    )) as StateRow[];
    if (!row) throw new Error('usage_rollup_state has no row: run the usage-tracker migrations');
    return {
      lateBefore: row.late_before.getTime(),
      rolledTo: row.rolled_to.getTime(),
      minutesFrom: row.minutes_from?.getTime() ?? null,
      hoursFrom: row.hours_from?.getTime() ?? null,
    };
  }

  /** Creates the partitions that do not exist yet; returns their names. */
  async ensurePartitions(specs: readonly PartitionSpec[]): Promise<string[]> {
    return this.locked(async (runner) => {
      // Attaching a partition briefly locks its table against writers: never wait behind a long transaction.
      await runner.query(`SET LOCAL lock_timeout = '10s'`);
      const created: string[] = [];
      for (const spec of specs) {
        const [{ found }] = (await runner.query(`SELECT to_regclass($1) IS NOT NULL AS found`, [`"usage"."${spec.name}"`])) as {
          found: boolean;
        }[];
        if (found) continue;
        for (const statement of createPartitionStatements(spec)) await runner.query(statement.sql, statement.parameters);
        created.push(spec.name);
      }
      return created;
    });
  }

  /**
   * Step 1 of rolling hours: from now on, writes to minutes before `target` also go to
   * key_usage_late. The UPDATE waits for every ingest batch holding the watermark FOR SHARE, so once
   * it commits no batch that read the old value is still writing.
   */
  async openHoursBefore(target: number): Promise<void> {
    await this.locked(async (runner) => {
      // Batches take the share lock without queueing behind this UPDATE: should two replicas' batches
      // overlap without a gap for this long, the run fails and the next one tries again.
      await runner.query(`SET LOCAL lock_timeout = '10s'`);
      await runner.query(`UPDATE "usage"."usage_rollup_state" SET "late_before" = $1 WHERE "id" = 1 AND "late_before" < $1`, [iso(target)]);
    });
  }

  /**
   * Step 2, one transaction per hour: the hour's minute rows summed into hour rows (and, for a
   * day's last hour, the day's hour rows into its day rows: one write per key and day), the late rows of that hour (written by batches this statement's snapshot sees, so
   * already in the sum) deleted, and `rolled_to` moved past the hour only if it still names it.
   * One statement, one snapshot. Returns the hour rolled, or null when none is open.
   */
  async rollNextHour(): Promise<{ hour: number; keys: number } | null> {
    return this.locked(async (runner) => {
      const state = await this.state(runner);
      if (state.rolledTo >= state.lateBefore) return null;
      const hour = state.rolledTo;
      // An UPDATE answers [returned rows, affected count] through TypeORM.
      const [returned] = (await runner.query(
        `WITH "sums" AS (
           SELECT "key_id", sum("count") AS "count", sum("refused") AS "refused", max("last_used_at") AS "last_used_at"
             FROM "usage"."key_usage_minutes" WHERE "minute" >= $1 AND "minute" < $2 GROUP BY "key_id"
         ), "hours" AS (
           INSERT INTO "usage"."key_usage_hours" ("key_id", "hour", "count", "refused", "last_used_at")
           SELECT "key_id", $1, "count", "refused", "last_used_at" FROM "sums"
           ON CONFLICT ("key_id", "hour") DO UPDATE
             SET "count" = EXCLUDED."count", "refused" = EXCLUDED."refused", "last_used_at" = EXCLUDED."last_used_at"
         ), "days" AS (
           -- The day's last hour closes the day: its row is written once, from its hours and this one.
           INSERT INTO "usage"."key_usage_days" ("key_id", "day", "count", "refused", "last_used_at")
           SELECT "key_id", $3, sum("count"), sum("refused"), max("last_used_at") FROM (
             SELECT "key_id", "count", "refused", "last_used_at" FROM "usage"."key_usage_hours" WHERE "hour" >= $3 AND "hour" < $1
             UNION ALL SELECT "key_id", "count", "refused", "last_used_at" FROM "sums") AS "day"
            WHERE $4::boolean GROUP BY "key_id"
           ON CONFLICT ("key_id", "day") DO UPDATE
             SET "count" = "key_usage_days"."count" + EXCLUDED."count", "refused" = "key_usage_days"."refused" + EXCLUDED."refused",
                 "last_used_at" = GREATEST("key_usage_days"."last_used_at", EXCLUDED."last_used_at")
         ), "settled" AS (
           DELETE FROM "usage"."key_usage_late" WHERE "minute" >= $1 AND "minute" < $2
         )
         UPDATE "usage"."usage_rollup_state" SET "rolled_to" = $2
          WHERE "id" = 1 AND "rolled_to" = $1
         RETURNING (SELECT count(*) FROM "sums")::int AS "keys"`,
        [iso(hour), iso(hour + HOUR_MS), iso(startOfUtcDay(hour)), startOfUtcDay(hour + HOUR_MS) === hour + HOUR_MS],
      )) as [{ keys: number }[], number];
      if (returned.length !== 1) throw new Error(`the rollup watermark moved away from ${iso(hour)} during its rollup`);
      return { hour, keys: returned[0].keys };
    });
  }

  /**
   * Late uses of hours already rolled, added to the hour rows (while those are kept) and to the day
   * rows of closed days, and deleted in the same statement, `limit` at a time. Their minute rows have them already.
   * Returns how many late rows were folded.
   */
  async foldLate(limit: number): Promise<number> {
    return this.locked(async (runner) => {
      const state = await this.state(runner);
      const [{ folded }] = (await runner.query(
        `WITH "moved" AS (
           DELETE FROM "usage"."key_usage_late" WHERE "id" IN (
             SELECT "id" FROM "usage"."key_usage_late" WHERE "minute" < $1 ORDER BY "id" LIMIT $2)
           RETURNING "key_id", "minute", "count", "refused", "last_used_at"
         ), "hours" AS (
           INSERT INTO "usage"."key_usage_hours" ("key_id", "hour", "count", "refused", "last_used_at")
           SELECT "key_id", date_trunc('hour', "minute", 'UTC'), sum("count"), sum("refused"), max("last_used_at") FROM "moved"
            WHERE $3::timestamptz IS NULL OR "minute" >= $3 GROUP BY 1, 2
           ON CONFLICT ("key_id", "hour") DO UPDATE
             SET "count" = "key_usage_hours"."count" + EXCLUDED."count", "refused" = "key_usage_hours"."refused" + EXCLUDED."refused",
                 "last_used_at" = GREATEST("key_usage_hours"."last_used_at", EXCLUDED."last_used_at")
         ), "days" AS (
           -- A day not closed yet gets its row from its hours when its last hour is rolled.
           INSERT INTO "usage"."key_usage_days" ("key_id", "day", "count", "refused", "last_used_at")
           SELECT "key_id", date_trunc('day', "minute", 'UTC'), sum("count"), sum("refused"), max("last_used_at") FROM "moved"
            WHERE date_trunc('day', "minute", 'UTC') + interval '1 day' <= $1 GROUP BY 1, 2
           ON CONFLICT ("key_id", "day") DO UPDATE
             SET "count" = "key_usage_days"."count" + EXCLUDED."count", "refused" = "key_usage_days"."refused" + EXCLUDED."refused",
                 "last_used_at" = GREATEST("key_usage_days"."last_used_at", EXCLUDED."last_used_at")
         )
         SELECT count(*)::int AS "folded" FROM "moved"`,
        [iso(state.rolledTo), limit, state.hoursFrom === null ? null : iso(state.hoursFrom)],
      )) as { folded: number }[];
      return folded;
    });
  }

  /**
   * Drops the partitions wholly before the retention horizons and deletes the default partitions'
   * rows there. Dropping a partition locks its parent for a moment: `lock_timeout` keeps a busy
   * table from stalling writers behind it (the drop is tried again on the next run).
   */
  async dropExpired(): Promise<string[]> {
    return this.locked(async (runner) => {
      const state = await this.state(runner);
      await runner.query(`SET LOCAL lock_timeout = '5s'`);
      const partitions = (await runner.query(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent IN ('"usage"."key_usage_minutes"'::regclass, '"usage"."key_usage_hours"'::regclass)`,
      )) as { name: string }[];
      const dropped: string[] = [];
      for (const { name } of partitions) {
        const end = partitionRangeEnd(name);
        if (end === undefined) continue;
        const horizon = name.startsWith('key_usage_minutes_') ? state.minutesFrom : state.hoursFrom;
        if (horizon === null || end > horizon) continue;
        await runner.query(`DROP TABLE "usage"."${name}"`);
        dropped.push(name);
      }
      if (state.minutesFrom !== null) {
        await runner.query(`DELETE FROM "usage"."${MINUTES_OTHER}" WHERE "minute" < $1`, [iso(state.minutesFrom)]);
      }
      if (state.hoursFrom !== null) await runner.query(`DELETE FROM "usage"."${HOURS_OTHER}" WHERE "hour" < $1`, [iso(state.hoursFrom)]);
      return dropped.sort();
    });
  }

  /**
   * Moves the horizons forward (never past what is rolled up: minutes_from ≤ rolled_to, hours_from
   * ≤ minutes_from). Queries read each range from the resolution the horizons name; the rows
   * themselves go at the next run's `dropExpired`, long after any query that read the old horizons.
   */
  async advanceHorizons(minutesTarget: number, hoursTarget: number): Promise<RollupState> {
    return this.locked(async (runner) => {
      await runner.query(
        `UPDATE "usage"."usage_rollup_state"
            SET "minutes_from" = GREATEST("minutes_from", LEAST($1::timestamptz, date_trunc('day', "rolled_to", 'UTC')))
          WHERE "id" = 1`,
        [iso(minutesTarget)],
      );
      await runner.query(
        `UPDATE "usage"."usage_rollup_state" SET "hours_from" = GREATEST("hours_from", LEAST($1::timestamptz, "minutes_from"))
          WHERE "id" = 1 AND "minutes_from" IS NOT NULL`,
        [iso(hoursTarget)],
      );
      return this.state(runner);
    });
  }

  /** One transaction under the maintenance lock; MaintenanceBusy when another replica holds it. */
  private locked<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, async (runner) => {
      const [{ locked }] = (await runner.query(`SELECT pg_try_advisory_xact_lock($1::bigint) AS locked`, [
        MAINTENANCE_LOCK.toString(),
      ])) as {
        locked: boolean;
      }[];
      if (!locked) throw new MaintenanceBusy();
      return work(runner);
    });
  }
}
