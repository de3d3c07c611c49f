import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import type { UsageQuery } from '@app/contracts';
import { createLogger } from '@app/common';
import { createTestDatabase, eventually, testEnvironment, type TestDatabase } from '@app/testing';
import { migrateUsageTracker } from '../database/migrate.js';
import { usageTrackerDataSourceOptions } from '../database/data-source-options.js';
import { DAY_MS, HOUR_MS, minutePartition, startOfUtcDay } from '../database/usage-partitions.js';
import { UsageIngestRepository } from '../ingest/usage-ingest.repository.js';
import { UsageQueryRepository } from '../query/usage-query.repository.js';
import { UsageQueryService } from '../query/usage-query.service.js';
import { UsageMaintenance } from './usage-maintenance.js';
import { MAINTENANCE_LOCK, UsageRollupRepository } from './usage-rollup.repository.js';

/**
 * Rollup and retention against a real Postgres (a database of the run's own), driven by an
 * injected clock: days and months of upkeep run without waiting. Uses are written by the
 * ingestion's own statement (UsageIngestRepository), so late writes take the real path.
 */
let db: TestDatabase;
const sources: DataSource[] = [];
let sql: DataSource;
let ingest: UsageIngestRepository;
let queries: UsageQueryService;
const logger = createLogger('usage-rollup-spec', process.env.TEST_LOG_LEVEL ?? 'silent');
const STREAM = 'rollup-spec';
let seq = 0;

const MINUTE_MS = 60_000;
/** A day after the migration's start (the rollup begins at the migration's hour). */
const D = startOfUtcDay(Date.now()) + 2 * DAY_MS;
const at = (offsetMs: number) => D + offsetMs;

async function source(): Promise<DataSource> {
  const created = await new DataSource(usageTrackerDataSourceOptions(db.url, 4)).initialize();
  sources.push(created);
  return created;
}

function maintenanceOn(dataSource: DataSource, options: Partial<{ minuteRetentionDays: number; hourRetentionDays: number }> = {}) {
  return new UsageMaintenance(
    new UsageRollupRepository(dataSource),
    { minuteRetentionDays: 7, hourRetentionDays: 400, intervalMs: 0, ...options },
    logger,
    () => {
      throw new Error('the spec passes every run its time');
    },
  );
}

/** Writes uses through ingestion's statement, each as a message of its own (a new stream sequence). */
async function use(keyId: string, atMs: number, count = 1, refused = 0): Promise<void> {
  await ingest.applyBatch(STREAM, [{ seq: ++seq, keyId, atMs, count, refused }]);
}

async function series(query: Omit<UsageQuery, 'keyId'> & { keyId: string }, nowMs: number) {
  return queries.series(query, nowMs);
}

async function answer(query: Omit<UsageQuery, 'keyId'> & { keyId: string }, nowMs: number): Promise<string> {
  try {
    await series(query, nowMs);
    return 'answered';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const rows = async (text: string, parameters: unknown[] = []) => await sql.query<Record<string, unknown>[]>(text, parameters);

/** Per key and hour, what the minute rows hold: the truth hour rows must equal. */
async function minuteSumsByHour(fromMs: number, toMs: number) {
  return rows(
    `SELECT "key_id", date_trunc('hour', "minute", 'UTC') AS "hour", sum("count")::int AS "count", sum("refused")::int AS "refused"
       FROM "usage"."key_usage_minutes" WHERE "minute" >= $1 AND "minute" < $2 GROUP BY 1, 2 ORDER BY 1, 2`,
    [new Date(fromMs), new Date(toMs)],
  );
}

async function hourRows(fromMs: number, toMs: number) {
  return rows(
    `SELECT "key_id", "hour", "count"::int AS "count", "refused"::int AS "refused" FROM "usage"."key_usage_hours"
      WHERE "hour" >= $1 AND "hour" < $2 ORDER BY 1, 2`,
    [new Date(fromMs), new Date(toMs)],
  );
}

beforeAll(async () => {
  db = await createTestDatabase(testEnvironment());
  await migrateUsageTracker(db.url);
  sql = await source();
  ingest = new UsageIngestRepository(sql);
  await ingest.registerStream(STREAM);
  queries = new UsageQueryService(new UsageQueryRepository(sql));
});

afterAll(async () => {
  for (const dataSource of sources) await dataSource.destroy().catch(() => undefined);
  await db?.drop();
});

describe('usage rollup and retention (Postgres, injected clock)', () => {
  const expected = new Map<string, number>();
  const record = async (keyId: string, atMs: number, count = 1, refused = 0) => {
    await use(keyId, atMs, count, refused);
    expected.set(keyId, (expected.get(keyId) ?? 0) + count);
  };

  it('rolls closed hours into hour and day rows that equal the minutes, and answers the same series after', async () => {
    const maintenance = maintenanceOn(await source());
    for (let i = 0; i < 180; i++) await record(`k${i % 3}`, at(i * MINUTE_MS + 7_000), 1 + (i % 4), i % 5 === 0 ? 2 : 0);
    const now = at(3 * HOUR_MS + 10 * MINUTE_MS);
    const query = { keyId: 'k1', from: new Date(D).toISOString(), to: new Date(D + DAY_MS).toISOString(), interval: 'hour' as const };
    const before = await series(query, now);

    const run = await maintenance.runOnce(now);

    expect(run.ran).toBe(true);
    expect(run.state?.rolledTo).toBe(at(3 * HOUR_MS));
    expect(await hourRows(D, D + DAY_MS)).toEqual(await minuteSumsByHour(D, D + 3 * HOUR_MS));
    // The day is still open: its row is written once, when its last hour is rolled.
    expect(await rows(`SELECT * FROM "usage"."key_usage_days" WHERE "day" = $1`, [new Date(D)])).toEqual([]);
    expect(await series(query, now)).toEqual(before);
    expect(before.total).toBe(expected.get('k1'));
    // Nothing open: a second run rolls nothing and changes nothing.
    expect((await maintenance.runOnce(now + MINUTE_MS)).hoursRolled).toBe(0);
    expect(await hourRows(D, D + DAY_MS)).toEqual(await minuteSumsByHour(D, D + 3 * HOUR_MS));
  });

  it('counts a use that arrives for an already rolled minute once in every resolution, before and after folding', async () => {
    const maintenance = maintenanceOn(await source());
    const now = at(3 * HOUR_MS + 20 * MINUTE_MS);
    await record('k1', at(30 * MINUTE_MS + 59_000), 5, 1);
    // The same message redelivered: ingestion skips it, so it is written once.
    await ingest.applyBatch(STREAM, [{ seq, keyId: 'k1', atMs: at(30 * MINUTE_MS + 59_000), count: 5, refused: 1 }]);
    const [late] = await rows(`SELECT count(*)::int AS n FROM "usage"."key_usage_late"`);
    expect(late.n).toBe(1);

    const byInterval = async () => ({
      minute: (
        await series({ keyId: 'k1', from: new Date(D).toISOString(), to: new Date(at(3 * HOUR_MS)).toISOString(), interval: 'minute' }, now)
      ).total,
      hour: (await series({ keyId: 'k1', from: new Date(D).toISOString(), to: new Date(at(DAY_MS)).toISOString(), interval: 'hour' }, now))
        .total,
      day: (await series({ keyId: 'k1', from: new Date(D).toISOString(), to: new Date(at(DAY_MS)).toISOString(), interval: 'day' }, now))
        .total,
    });
    const want = expected.get('k1');
    expect(await byInterval()).toEqual({ minute: want, hour: want, day: want });

    const run = await maintenance.runOnce(now);
    expect(run.lateFolded).toBe(1);
    expect(await byInterval()).toEqual({ minute: want, hour: want, day: want });
    expect(await hourRows(D, D + DAY_MS)).toEqual(await minuteSumsByHour(D, D + 3 * HOUR_MS));
    // Folding again finds nothing: the late row went in the same transaction that counted it.
    expect((await maintenance.runOnce(now + MINUTE_MS)).lateFolded).toBe(0);
    expect(await byInterval()).toEqual({ minute: want, hour: want, day: want });
  });

  it('drops minute partitions after the retention and answers across the horizon exactly, from hours before it', async () => {
    const maintenance = maintenanceOn(await source());
    await record('k1', at(7 * DAY_MS + 2 * HOUR_MS), 3);
    await record('k2', at(7 * DAY_MS + 2 * HOUR_MS + 5 * MINUTE_MS), 4);
    const now = at(8 * DAY_MS + HOUR_MS);
    const first = await maintenance.runOnce(now);
    // The horizon moves first; the partition goes at the next run, after queries that read the old horizon.
    expect(first.state?.minutesFrom).toBe(at(DAY_MS));
    expect(first.partitionsDropped).toEqual([]);
    const dayRows = await rows(`SELECT "key_id", "count"::int AS n FROM "usage"."key_usage_days" WHERE "day" = $1 ORDER BY 1`, [
      new Date(D),
    ]);
    expect(dayRows.map((row) => [row.key_id, row.n])).toEqual([
      ['k0', expected.get('k0')],
      ['k1', (expected.get('k1') ?? 0) - 3],
      ['k2', (expected.get('k2') ?? 0) - 4],
    ]);
    const second = await maintenance.runOnce(now + MINUTE_MS);
    expect(second.partitionsDropped).toContain(minutePartition(D).name);
    const [gone] = await rows(`SELECT to_regclass($1) AS found`, [`"usage"."${minutePartition(D).name}"`]);
    expect(gone.found).toBeNull();

    const span = { from: new Date(D).toISOString(), to: new Date(now).toISOString() };
    for (const keyId of ['k0', 'k1', 'k2']) {
      expect((await series({ keyId, ...span, interval: 'hour' }, now)).total).toBe(expected.get(keyId));
      expect((await series({ keyId, ...span, interval: 'day' }, now)).total).toBe(expected.get(keyId));
    }
    const days = await series({ keyId: 'k1', ...span, interval: 'day' }, now);
    expect(days.data[0].count + days.data[7].count).toBe(expected.get('k1'));
    expect(days.data[7].count).toBe(3);
    // Minute points only where minute rows are kept; the answer names where they start.
    const firstDay = { from: new Date(D).toISOString(), to: new Date(at(DAY_MS)).toISOString(), interval: 'minute' as const };
    expect(await answer({ keyId: 'k1', ...firstDay }, now)).toBe('invalid_request');
    await expect(series({ keyId: 'k1', ...firstDay }, now)).rejects.toThrow(
      `minute points are kept from ${new Date(at(DAY_MS)).toISOString()} on`,
    );
    const keptDay = {
      from: new Date(at(7 * DAY_MS)).toISOString(),
      to: new Date(at(8 * DAY_MS)).toISOString(),
      interval: 'minute' as const,
    };
    expect((await series({ keyId: 'k1', ...keptDay }, now)).total).toBe(3);
    // k0's last use is only in an hour row now.
    const k0Last = await rows(`SELECT max("last_used_at") AS last FROM "usage"."key_usage_hours" WHERE "key_id" = 'k0'`);
    expect(await queries.lastUsed({ keyIds: ['k0'] })).toEqual({ k0: (k0Last[0].last as Date).toISOString() });
    expect((await queries.lastUsed({ keyIds: ['k0'] })).k0).toBe(new Date(at(177 * MINUTE_MS + 7_000)).toISOString());
  });

  it('counts a use for a day whose minutes were dropped once, in hours and days, and drops its stray minute row', async () => {
    const maintenance = maintenanceOn(await source());
    const now = at(8 * DAY_MS + HOUR_MS + 2 * MINUTE_MS);
    await record('k2', at(45 * MINUTE_MS), 6);
    const span = { keyId: 'k2', from: new Date(D).toISOString(), to: new Date(now).toISOString() };
    expect((await series({ ...span, interval: 'hour' }, now)).total).toBe(expected.get('k2'));
    const [stray] = await rows(`SELECT count(*)::int AS n FROM "usage"."key_usage_minutes_other" WHERE "key_id" = 'k2'`);
    expect(stray.n).toBe(1);

    const run = await maintenance.runOnce(now);
    expect(run.lateFolded).toBe(1);
    expect((await series({ ...span, interval: 'hour' }, now)).total).toBe(expected.get('k2'));
    expect((await series({ ...span, interval: 'day' }, now)).total).toBe(expected.get('k2'));
    const [left] = await rows(`SELECT count(*)::int AS n FROM "usage"."key_usage_minutes_other" WHERE "key_id" = 'k2'`);
    expect(left.n).toBe(0);
  });

  it('keeps hour rows for the hour retention, then answers from day rows alone', async () => {
    const maintenance = maintenanceOn(await source(), { minuteRetentionDays: 1, hourRetentionDays: 1 });
    const now = at(40 * DAY_MS);
    await maintenance.runOnce(now);
    const run = await maintenance.runOnce(now + MINUTE_MS);
    expect(run.state?.hoursFrom).toBeGreaterThan(at(8 * DAY_MS));
    const [hours] = await rows(`SELECT count(*)::int AS n FROM "usage"."key_usage_hours" WHERE "hour" < $1`, [
      new Date(run.state!.hoursFrom!),
    ]);
    expect(hours.n).toBe(0);
    const span = { from: new Date(D).toISOString(), to: new Date(now).toISOString() };
    for (const keyId of ['k0', 'k1', 'k2'])
      expect((await series({ keyId, ...span, interval: 'day' }, now)).total).toBe(expected.get(keyId));
    expect(await answer({ keyId: 'k1', ...span, interval: 'hour' }, now)).toBe('invalid_request');
    const [k0] = await rows(`SELECT max("last_used_at") AS last FROM "usage"."key_usage_days" WHERE "key_id" = 'k0'`);
    expect(await queries.lastUsed({ keyIds: ['k0', 'never'] })).toEqual({ k0: (k0.last as Date).toISOString(), never: null });
  });
});

describe('the maintenance lease and crashes', () => {
  const E = D + 60 * DAY_MS;

  it('does nothing while another replica holds the lease', async () => {
    const maintenance = maintenanceOn(await source());
    const holder = (await source()).createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    try {
      await holder.query(`SELECT pg_advisory_xact_lock($1::bigint)`, [MAINTENANCE_LOCK.toString()]);
      const before = await rows(`SELECT * FROM "usage"."usage_rollup_state"`);
      const run = await maintenance.runOnce(E);
      expect(run.ran).toBe(false);
      expect(await rows(`SELECT * FROM "usage"."usage_rollup_state"`)).toEqual(before);
    } finally {
      await holder.rollbackTransaction();
      await holder.release();
    }
  });

  it('leaves no trace of an hour whose rollup died mid-transaction, and rolls it exactly on the next run', async () => {
    const victim = await source();
    const maintenance = maintenanceOn(victim);
    await maintenance.runOnce(E);
    for (let i = 0; i < 50; i++) await use(`crash-k${i % 5}`, E + 10 * MINUTE_MS + i * 1000, 2);
    const before = (await rows(`SELECT "rolled_to" FROM "usage"."usage_rollup_state"`))[0].rolled_to as Date;

    // Day rows locked by another session: the rollup's single statement waits inside its transaction.
    const blocker = sql.createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    await blocker.query(`LOCK TABLE "usage"."key_usage_days" IN EXCLUSIVE MODE`);
    const dying = maintenance.runOnce(E + HOUR_MS + 10 * MINUTE_MS).then(
      () => 'finished',
      (error: Error) => error.message,
    );
    const [waiting] = await eventually(
      () =>
        rows(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%"sums"%'`),
      (found) => found.length === 1,
      { timeoutMs: 10_000, intervalMs: 20, what: 'the rollup to wait on the day rows' },
    );
    await sql.query(`SELECT pg_terminate_backend($1)`, [waiting.pid]);
    expect(await dying).not.toBe('finished');
    await blocker.rollbackTransaction();
    await blocker.release();

    expect((await rows(`SELECT "rolled_to" FROM "usage"."usage_rollup_state"`))[0].rolled_to).toEqual(before);
    expect(await hourRows(E, E + DAY_MS)).toEqual([]);
    const rerun = await maintenanceOn(await source()).runOnce(E + HOUR_MS + 11 * MINUTE_MS);
    expect(rerun.hoursRolled).toBeGreaterThan(0);
    expect(await hourRows(E, E + DAY_MS)).toEqual(await minuteSumsByHour(E, E + HOUR_MS));
    const [hour] = await rows(`SELECT sum("count")::int AS n FROM "usage"."key_usage_hours" WHERE "key_id" LIKE 'crash-%'`);
    expect(hour.n).toBe(100);
  });

  it('two replicas maintaining while uses (late ones too) keep arriving count every use exactly once', async () => {
    const F = E + 2 * DAY_MS;
    const replicas = [maintenanceOn(await source()), maintenanceOn(await source())];
    await replicas[0].runOnce(F);
    const writer = new UsageIngestRepository(await source());
    let written = 0;
    const expectedByKey = new Map<string, number>();
    let clock = F + 10 * MINUTE_MS;
    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing || i < 400; i++) {
        // Uses spread over the current hour and the two before it: some land in hours already rolled.
        const keyId = `race-k${i % 7}`;
        const atMs = Math.max(F, clock - (i % 3) * HOUR_MS - (i % 50) * 1000);
        await writer.applyBatch(STREAM, [{ seq: ++seq, keyId, atMs, count: 1 + (i % 3), refused: 0 }]);
        expectedByKey.set(keyId, (expectedByKey.get(keyId) ?? 0) + 1 + (i % 3));
        written += 1;
      }
    })();
    while (written < 400) {
      clock += 7 * MINUTE_MS;
      await Promise.all(replicas.map((replica) => replica.runOnce(clock)));
    }
    writing = false;
    await writes;
    // Let both settle everything that is closed, then compare every resolution with the truth.
    const end = startOfUtcDay(clock) + DAY_MS + 10 * MINUTE_MS;
    await replicas[0].runOnce(end);
    await replicas[1].runOnce(end + MINUTE_MS);

    const rolledTo = ((await rows(`SELECT "rolled_to" FROM "usage"."usage_rollup_state"`))[0].rolled_to as Date).getTime();
    expect(await hourRows(F, rolledTo)).toEqual(
      (await minuteSumsByHour(F, rolledTo)).filter((row) => String(row.key_id).startsWith('race-')),
    );
    const days = await rows(
      `SELECT "key_id", sum("count")::int AS n FROM "usage"."key_usage_days" WHERE "key_id" LIKE 'race-%' GROUP BY 1 ORDER BY 1`,
    );
    expect(Object.fromEntries(days.map((row) => [row.key_id, row.n]))).toEqual(Object.fromEntries([...expectedByKey].sort()));
    const [late] = await rows(`SELECT count(*)::int AS n FROM "usage"."key_usage_late" WHERE "minute" < $1`, [new Date(rolledTo)]);
    expect(late.n).toBe(0);
  });
});
