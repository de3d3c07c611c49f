import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  createPartitionStatements,
  DAY_MS,
  hourPartition,
  minutePartition,
  nextUtcMonth,
  startOfUtcDay,
  startOfUtcHour,
} from '../usage-partitions.js';

/** Day partitions made ahead of today, so the day's first uses never land in the default partition. */
const DAYS_AHEAD = 2;

/**
 * Usage storage that does not grow without end: minute rows partitioned by UTC day (dropped after
 * the minute retention), hour rows partitioned by UTC month (dropped after the hour retention), day
 * rows kept forever, uses that arrive for an hour already rolled up (`key_usage_late`, until folded
 * in), and the rollup's watermarks (`usage_rollup_state`). Existing minute rows move into the
 * partitioned table; nothing is rolled yet, so the rollup starts at the oldest of them.
 */
export class UsageRollup1796144900000 implements MigrationInterface {
  name = 'UsageRollup1796144900000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE "usage"."key_usage_minutes" RENAME TO "key_usage_minutes_unpartitioned"`);
    await db.query(
      `ALTER TABLE "usage"."key_usage_minutes_unpartitioned" RENAME CONSTRAINT "key_usage_minutes_pkey" TO "key_usage_minutes_unpartitioned_pkey"`,
    );
    await db.query(`CREATE TABLE "usage"."key_usage_minutes" (
      "key_id" character varying(64) NOT NULL,
      "minute" TIMESTAMP WITH TIME ZONE NOT NULL,
      "count" bigint NOT NULL,
      "refused" bigint NOT NULL DEFAULT '0',
      "last_used_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "key_usage_minutes_pkey" PRIMARY KEY ("key_id", "minute")) PARTITION BY RANGE ("minute")`);
    // The rollup reads one hour of every key: a BRIN index finds it in a day partition for a few pages of index.
    await db.query(`CREATE INDEX "key_usage_minutes_minute_brin" ON "usage"."key_usage_minutes" USING brin ("minute")`);
    await db.query(
      `CREATE TABLE "usage"."key_usage_minutes_other" PARTITION OF "usage"."key_usage_minutes" DEFAULT WITH (fillfactor = 50)`,
    );

    await db.query(`CREATE TABLE "usage"."key_usage_hours" (
      "key_id" character varying(64) NOT NULL,
      "hour" TIMESTAMP WITH TIME ZONE NOT NULL,
      "count" bigint NOT NULL,
      "refused" bigint NOT NULL DEFAULT '0',
      "last_used_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "key_usage_hours_pkey" PRIMARY KEY ("key_id", "hour")) PARTITION BY RANGE ("hour")`);
    await db.query(`CREATE TABLE "usage"."key_usage_hours_other" PARTITION OF "usage"."key_usage_hours" DEFAULT`);

    await db.query(`CREATE TABLE "usage"."key_usage_days" (
      "key_id" character varying(64) NOT NULL,
      "day" TIMESTAMP WITH TIME ZONE NOT NULL,
      "count" bigint NOT NULL,
      "refused" bigint NOT NULL DEFAULT '0',
      "last_used_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "key_usage_days_pkey" PRIMARY KEY ("key_id", "day"))`);

    await db.query(`CREATE TABLE "usage"."key_usage_late" (
      "id" BIGSERIAL NOT NULL,
      "key_id" character varying(64) NOT NULL,
      "minute" TIMESTAMP WITH TIME ZONE NOT NULL,
      "count" bigint NOT NULL,
      "refused" bigint NOT NULL,
      "last_used_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "key_usage_late_pkey" PRIMARY KEY ("id"))`);
    await db.query(`CREATE INDEX "key_usage_late_key_minute" ON "usage"."key_usage_late" ("key_id", "minute")`);
    await db.query(`CREATE INDEX "key_usage_late_minute" ON "usage"."key_usage_late" ("minute")`);

    await db.query(`CREATE TABLE "usage"."usage_rollup_state" (
      "id" smallint NOT NULL DEFAULT '1',
      "late_before" TIMESTAMP WITH TIME ZONE NOT NULL,
      "rolled_to" TIMESTAMP WITH TIME ZONE NOT NULL,
      "minutes_from" TIMESTAMP WITH TIME ZONE,
      "hours_from" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "usage_rollup_state_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "usage_rollup_state_single" CHECK ("id" = 1))`);

    const [{ oldest, now }] = (await db.query(
      `SELECT (SELECT min("minute") FROM "usage"."key_usage_minutes_unpartitioned") AS oldest, now() AS now`,
    )) as { oldest: Date | null; now: Date }[];
    const nowMs = now.getTime();
    const startMs = oldest ? Math.min(oldest.getTime(), nowMs) : nowMs;
    for (let day = startOfUtcDay(startMs); day <= startOfUtcDay(nowMs) + DAYS_AHEAD * DAY_MS; day += DAY_MS) {
      for (const statement of createPartitionStatements(minutePartition(day))) await db.query(statement.sql, statement.parameters);
    }
    for (let month = hourPartition(startMs).from.getTime(); month <= nextUtcMonth(nowMs); month = nextUtcMonth(month)) {
      for (const statement of createPartitionStatements(hourPartition(month))) await db.query(statement.sql, statement.parameters);
    }
    await db.query(`INSERT INTO "usage"."key_usage_minutes" ("key_id", "minute", "count", "refused", "last_used_at")
      SELECT "key_id", "minute", "count", "refused", "last_used_at" FROM "usage"."key_usage_minutes_unpartitioned"`);
    await db.query(`DROP TABLE "usage"."key_usage_minutes_unpartitioned"`);
    // Nothing is rolled up yet: the rollup starts at the hour of the oldest use kept (or now, with none).
    await db.query(`INSERT INTO "usage"."usage_rollup_state" ("id", "late_before", "rolled_to") VALUES (1, $1, $1)`, [
      new Date(startOfUtcHour(startMs)).toISOString(),
    ]);
  }

  /** Back to one unpartitioned table of the minute rows still kept; hours and days of dropped minutes are lost. */
  async down(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE "usage"."key_usage_minutes_unpartitioned" (
      "key_id" character varying(64) NOT NULL,
      "minute" TIMESTAMP WITH TIME ZONE NOT NULL,
      "count" bigint NOT NULL,
      "refused" bigint NOT NULL DEFAULT '0',
      "last_used_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "key_usage_minutes_unpartitioned_pkey" PRIMARY KEY ("key_id", "minute")) WITH (fillfactor = 50)`);
    await db.query(`INSERT INTO "usage"."key_usage_minutes_unpartitioned" SELECT "key_id", "minute", "count", "refused", "last_used_at"
      FROM "usage"."key_usage_minutes"`);
    await db.query(`DROP TABLE "usage"."usage_rollup_state"`);
    await db.query(`DROP TABLE "usage"."key_usage_late"`);
    await db.query(`DROP TABLE "usage"."key_usage_days"`);
    await db.query(`DROP TABLE "usage"."key_usage_hours"`);
    await db.query(`DROP TABLE "usage"."key_usage_minutes"`);
    await db.query(`ALTER TABLE "usage"."key_usage_minutes_unpartitioned" RENAME TO "key_usage_minutes"`);
    await db.query(
      `ALTER TABLE "usage"."key_usage_minutes" RENAME CONSTRAINT "key_usage_minutes_unpartitioned_pkey" TO "key_usage_minutes_pkey"`,
    );
  }
}
