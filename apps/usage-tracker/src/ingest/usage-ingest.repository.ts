import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import { inTransaction } from '@app/common';
import { aggregateUses, messageCount, notCovered, toRuns, uniqueBySeq, type UseRecord } from './usage-batch.js';

export interface BatchOutcome {
  /** Messages counted by this transaction. */
  applied: number;
  /** Messages already counted before (a redelivery): skipped. */
  duplicates: number;
  /** Uses added (messages may carry a count). */
  uses: number;
}

/** Deadlock and serialization failures are safe to retry: the whole transaction rolled back. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;

/**
 * Writes batches of uses, idempotently: a redelivered message is never counted twice.
 *
 * Why not a per-stream high-water mark: replicas share one consumer, so one replica may
 * commit sequence 900 while another still holds 850, and a crashed replica's 850 comes
 * back later; a mark at 900 would skip it. Instead each batch records the runs of
 * sequences it counted (`applied_ranges`, usually one row per batch) in the same
 * transaction as the counts, and counts only sequences no recorded run covers. The
 * check and the insert happen under the stream's `stream_state` row lock, so two
 * replicas holding the same redelivered message cannot both count it.
 *
 * The table stays small: `pruneSettled` folds everything at or below the consumer's ack
 * floor into `stream_state.applied_through` and deletes those runs. Below the floor every
 * message was acked (after its commit) or refused as malformed, and is never delivered
 * again (max_deliver is unlimited, so the floor passes nothing unsettled); sequences at
 * or below the mark count as applied.
 */
@Injectable()
export class UsageIngestRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async registerStream(stream: string): Promise<void> {
    await this.dataSource.query(`INSERT INTO "usage"."stream_state" ("stream") VALUES ($1) ON CONFLICT DO NOTHING`, [stream]);
  }

  /** `uses` may hold several records of one message (a batch message's entries): they are applied together. */
  async applyBatch(stream: string, uses: readonly UseRecord[]): Promise<BatchOutcome> {
    const candidates = uniqueBySeq(uses);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.inTransaction((runner) => this.apply(runner, stream, candidates, messageCount(uses)));
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !RETRYABLE.has((error as { code?: string }).code ?? '')) throw error;
      }
    }
  }

  /** Sequences at or below `ackFloor` are settled: fold them into the stream's mark. */
  async pruneSettled(stream: string, ackFloor: number): Promise<number> {
    return this.inTransaction(async (runner) => {
      await runner.query(`UPDATE "usage"."stream_state" SET "applied_through" = GREATEST("applied_through", $2) WHERE "stream" = $1`, [
        stream,
        ackFloor,
      ]);
      const [, deleted] = (await runner.query(`DELETE FROM "usage"."applied_ranges" WHERE "stream" = $1 AND "last_seq" <= $2`, [
        stream,
        ackFloor,
      ])) as [unknown, number];
      return deleted ?? 0;
    });
  }

  private async apply(runner: QueryRunner, stream: string, candidates: UseRecord[], received: number): Promise<BatchOutcome> {
    const state = (await runner.query(`SELECT "applied_through" FROM "usage"."stream_state" WHERE "stream" = $1 FOR UPDATE`, [stream])) as {
      applied_through: string;
    }[];
    if (state.length === 0) throw new Error(`stream ${stream} is not registered`);
    const appliedThrough = Number(state[0].applied_through);
    const unsettled = candidates.filter((use) => use.seq > appliedThrough);
    let fresh: UseRecord[] = [];
    if (unsettled.length > 0) {
      const applied = (await runner.query(
        `SELECT "first_seq" AS first, "last_seq" AS last FROM "usage"."applied_ranges"
          WHERE "stream" = $1 AND "first_seq" <= $3 AND "last_seq" >= $2`,
        [stream, unsettled[0].seq, unsettled[unsettled.length - 1].seq],
      )) as { first: string; last: string }[];
      fresh = notCovered(
        unsettled,
        applied.map((range) => ({ first: Number(range.first), last: Number(range.last) })),
      );
    }
    const { buckets, uses } = aggregateUses(fresh);
    if (fresh.length > 0) {
      // The runs counted and the counts go in one statement (one round trip fewer per batch). The
      // buckets travel as one array per column: PostgreSQL reads an array literal at about half the
      // cost of the same rows as JSON records, and with every request on a key of its own, each
      // request is a row (times as epoch ms, no Date strings to build).
      const runs = toRuns(fresh.map((use) => use.seq));
      // A minute whose hour the rollup has already taken (rollup/usage-rollup.repository.ts) is also
      // written to key_usage_late, for the rollup to add to the hour and day rows. The watermark is
      // read under FOR SHARE: the rollup moves it only between batches, never while one is writing.
      await runner.query(
        `WITH "runs" AS (
           INSERT INTO "usage"."applied_ranges" ("stream", "first_seq", "last_seq")
           SELECT $1, * FROM unnest($2::bigint[], $3::bigint[])
         ), "rollup" AS MATERIALIZED (
           SELECT "late_before" FROM "usage"."usage_rollup_state" WHERE "id" = 1 FOR SHARE
         ), "buckets" AS (
           SELECT b."keyId", to_timestamp(b."minuteMs" / 1000) AS "minute", b."count", b."refused", to_timestamp(b."lastMs" / 1000) AS "last"
             FROM unnest($4::text[], $5::float8[], $6::bigint[], $7::bigint[], $8::float8[])
               AS b ("keyId", "minuteMs", "count", "refused", "lastMs")
         ), "late" AS (
           INSERT INTO "usage"."key_usage_late" ("key_id", "minute", "count", "refused", "last_used_at")
           SELECT b."keyId", b."minute", b."count", b."refused", b."last" FROM "buckets" AS b, "rollup" AS r WHERE b."minute" < r."late_before"
         )
         INSERT INTO "usage"."key_usage_minutes" ("key_id", "minute", "count", "refused", "last_used_at")
         SELECT "keyId", "minute", "count", "refused", "last" FROM "buckets"
         ON CONFLICT ("key_id", "minute") DO UPDATE
           SET "count" = "key_usage_minutes"."count" + EXCLUDED."count",
               "refused" = "key_usage_minutes"."refused" + EXCLUDED."refused",
               -- GREATEST skips nulls: a bucket of refusals only leaves the last use as it was.
               "last_used_at" = GREATEST("key_usage_minutes"."last_used_at", EXCLUDED."last_used_at")`,
        [
          stream,
          runs.map((run) => run.first),
          runs.map((run) => run.last),
          textArray(buckets.map((bucket) => bucket.keyId)),
          numberArray(buckets.map((bucket) => bucket.minuteMs)),
          numberArray(buckets.map((bucket) => bucket.count)),
          numberArray(buckets.map((bucket) => bucket.refused)),
          numberArray(buckets.map((bucket) => bucket.lastMs)),
        ],
      );
    }
    const applied = messageCount(fresh);
    return { applied, duplicates: received - applied, uses };
  }

  private inTransaction<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, work);
  }
}

/**
 * A PostgreSQL array literal of strings, every element quoted (so `NULL`, commas and braces are
 * text) with `"` and `\` escaped. Built here rather than by the driver, which escapes element by
 * element through several calls; ids are validated before (no U+0000, which text cannot hold).
 */
export function textArray(values: readonly string[]): string {
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    literal += `${i > 0 ? ',' : ''}"${value.includes('"') || value.includes('\\') ? value.replace(/["\\]/g, '\\$&') : value}"`;
  }
  return `${literal}}`;
}

/** A PostgreSQL array literal of finite numbers (integers here: counts and epoch milliseconds) and nulls. */
export function numberArray(values: readonly (number | null)[]): string {
  return `{${values.map((value) => (value === null ? 'NULL' : String(value))).join(',')}}`;
}
