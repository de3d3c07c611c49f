import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@app/testing';
import { migrateUsageTracker } from './migrate.js';
import { usageTrackerDataSourceOptions } from './data-source-options.js';
import { USAGE_SCHEMA } from './usage-schema.js';
import { USAGE_TRACKER_MIGRATIONS } from './migrations/index.js';
import { minutePartition, partitionRangeEnd } from './usage-partitions.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase(testEnvironment());
});

afterAll(async () => {
  await db?.drop();
});

/** The usage schema's tables, partitions left out (their names carry dates). */
const ownTables = (tables: { schema: string; name: string }[]) =>
  tables
    .filter((table) => table.schema === USAGE_SCHEMA && partitionRangeEnd(table.name) === undefined && !table.name.endsWith('_other'))
    .map((table) => table.name);

const tablesBySchema = async (dataSource: DataSource) =>
  await dataSource.query<{ schema: string; name: string }[]>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  );

describe('usage-tracker schema', () => {
  it('migrates into its own schema, beside key-management, and the entities agree with the migrations', async () => {
    const dataSource = await new DataSource(usageTrackerDataSourceOptions(db.url, 1)).initialize();
    try {
      const before = (await tablesBySchema(dataSource)).filter((table) => table.schema !== USAGE_SCHEMA);

      expect(await migrateUsageTracker(db.url)).toEqual([
        'UsageSchema1767225700000',
        'LastUsedInMinutes1767225800000',
        'RefusedRequests1796140900000',
        'UsageRollup1796144900000',
        'KeyIdsInByteOrder1796150000000',
      ]);
      expect(await migrateUsageTracker(db.url)).toEqual([]);

      const tables = await tablesBySchema(dataSource);
      expect(ownTables(tables)).toEqual([
        'applied_ranges',
        'key_usage_days',
        'key_usage_hours',
        'key_usage_late',
        'key_usage_minutes',
        'schema_migrations',
        'stream_state',
        'usage_rollup_state',
      ]);
      expect(tables.some((table) => table.name === minutePartition(Date.now()).name)).toBe(true);
      // key-management's tables are untouched, and nothing of ours lands outside the usage schema.
      expect(tables.filter((table) => table.schema !== USAGE_SCHEMA)).toEqual(before);

      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('reverts cleanly', async () => {
    const dataSource = await new DataSource(usageTrackerDataSourceOptions(db.url, 1)).initialize();
    try {
      await migrateUsageTracker(db.url);
      for (let step = 0; step < USAGE_TRACKER_MIGRATIONS.length; step++) await dataSource.undoLastMigration({ transaction: 'all' });
      const left = (await tablesBySchema(dataSource)).filter((table) => table.schema === USAGE_SCHEMA).map((table) => table.name);
      expect(left).toEqual(['schema_migrations']);
      expect(await migrateUsageTracker(db.url)).toEqual([
        'UsageSchema1767225700000',
        'LastUsedInMinutes1767225800000',
        'RefusedRequests1796140900000',
        'UsageRollup1796144900000',
        'KeyIdsInByteOrder1796150000000',
      ]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('moves each key’s exact last use into its newest minute row, and back', async () => {
    const dataSource = await new DataSource(usageTrackerDataSourceOptions(db.url, 1)).initialize();
    try {
      await migrateUsageTracker(db.url);
      for (let step = 0; step < 4; step++) await dataSource.undoLastMigration({ transaction: 'all' });
      await dataSource.query(`INSERT INTO "usage"."key_usage_minutes" ("key_id", "minute", "count") VALUES
        ('k1', '2026-03-01T10:14:00Z', 4), ('k1', '2026-03-01T10:15:00Z', 2), ('k2', '2026-03-01T09:00:00Z', 1)`);
      await dataSource.query(`INSERT INTO "usage"."key_last_used" ("key_id", "last_used_at") VALUES
        ('k1', '2026-03-01T10:15:42.123Z'), ('k2', '2026-03-01T09:00:07.5Z')`);

      expect(await migrateUsageTracker(db.url)).toEqual([
        'LastUsedInMinutes1767225800000',
        'RefusedRequests1796140900000',
        'UsageRollup1796144900000',
        'KeyIdsInByteOrder1796150000000',
      ]);
      const rows = await dataSource.query<{ key_id: string; minute: Date; count: number; last_used_at: Date }[]>(
        `SELECT "key_id", "minute", "count"::int AS count, "last_used_at" FROM "usage"."key_usage_minutes" ORDER BY 1, 2`,
      );
      expect(rows.map((row) => [row.key_id, row.count, row.last_used_at.toISOString()])).toEqual([
        ['k1', 4, '2026-03-01T10:14:00.000Z'],
        ['k1', 2, '2026-03-01T10:15:42.123Z'],
        ['k2', 1, '2026-03-01T09:00:07.500Z'],
      ]);

      for (let step = 0; step < 4; step++) await dataSource.undoLastMigration({ transaction: 'all' });
      const lastUsed = await dataSource.query<
        {
          key_id: string;
          last_used_at: Date;
        }[]
      >(`SELECT "key_id", "last_used_at" FROM "usage"."key_last_used" ORDER BY 1`);
      expect(lastUsed.map((row) => [row.key_id, row.last_used_at.toISOString()])).toEqual([
        ['k1', '2026-03-01T10:15:42.123Z'],
        ['k2', '2026-03-01T09:00:07.500Z'],
      ]);
      await dataSource.query(`DELETE FROM "usage"."key_usage_minutes"`);
      await migrateUsageTracker(db.url);
    } finally {
      await dataSource.destroy();
    }
  });

  it('counts refusals beside uses; going back drops the minutes that hold refusals only', async () => {
    const dataSource = await new DataSource(usageTrackerDataSourceOptions(db.url, 1)).initialize();
    try {
      await migrateUsageTracker(db.url);
      await dataSource.query(`INSERT INTO "usage"."key_usage_minutes" ("key_id", "minute", "count", "refused", "last_used_at") VALUES
        ('k1', '2026-03-01T10:14:00Z', 4, 2, '2026-03-01T10:14:30Z'), ('k1', '2026-03-01T10:15:00Z', 0, 9, NULL)`);
      for (let step = 0; step < 3; step++) await dataSource.undoLastMigration({ transaction: 'all' });
      const rows = await dataSource.query<unknown[]>(`SELECT "key_id", "count"::int AS count FROM "usage"."key_usage_minutes"`);
      expect(rows).toEqual([{ key_id: 'k1', count: 4 }]);
      await dataSource.query(`DELETE FROM "usage"."key_usage_minutes"`);
      expect(await migrateUsageTracker(db.url)).toEqual([
        'RefusedRequests1796140900000',
        'UsageRollup1796144900000',
        'KeyIdsInByteOrder1796150000000',
      ]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('partitions the existing minute rows by day, keeps every one, and starts the rollup at the oldest', async () => {
    const dataSource = await new DataSource(usageTrackerDataSourceOptions(db.url, 1)).initialize();
    try {
      await migrateUsageTracker(db.url);
      for (let step = 0; step < 2; step++) await dataSource.undoLastMigration({ transaction: 'all' });
      const old = Date.now() - 20 * 86_400_000;
      await dataSource.query(
        `INSERT INTO "usage"."key_usage_minutes" ("key_id", "minute", "count", "refused", "last_used_at")
         SELECT 'k' || (i % 3), date_trunc('minute', $1::timestamptz) + i * interval '17 minutes', i, i % 2, NULL
           FROM generate_series(0, 1000) AS i`,
        [new Date(old).toISOString()],
      );
      const before = await dataSource.query<unknown[]>(
        `SELECT count(*)::int AS rows, sum("count")::int AS uses, sum("refused")::int AS refused FROM "usage"."key_usage_minutes"`,
      );

      expect(await migrateUsageTracker(db.url)).toEqual(['UsageRollup1796144900000', 'KeyIdsInByteOrder1796150000000']);
      const after = await dataSource.query<unknown[]>(
        `SELECT count(*)::int AS rows, sum("count")::int AS uses, sum("refused")::int AS refused FROM "usage"."key_usage_minutes"`,
      );
      expect(after).toEqual(before);
      const [{ other }] = await dataSource.query<
        {
          other: number;
        }[]
      >(`SELECT count(*)::int AS other FROM "usage"."key_usage_minutes_other"`);
      expect(other).toBe(0);
      const [{ rolled_to }] = await dataSource.query<{ rolled_to: Date }[]>(`SELECT "rolled_to" FROM "usage"."usage_rollup_state"`);
      expect(rolled_to.getTime()).toBe(Math.floor(old / 3_600_000) * 3_600_000);

      for (let step = 0; step < 2; step++) await dataSource.undoLastMigration({ transaction: 'all' });
      const reverted = await dataSource.query<unknown[]>(
        `SELECT count(*)::int AS rows, sum("count")::int AS uses, sum("refused")::int AS refused FROM "usage"."key_usage_minutes"`,
      );
      expect(reverted).toEqual(before);
      await dataSource.query(`DELETE FROM "usage"."key_usage_minutes"`);
      await migrateUsageTracker(db.url);
    } finally {
      await dataSource.destroy();
    }
  });

  it('compares key ids byte by byte in every usage table and partition, keeping every row, and back', async () => {
    const dataSource = await new DataSource(usageTrackerDataSourceOptions(db.url, 1)).initialize();
    const collations = async () =>
      await dataSource.query<{ table: string; collation: string | null }[]>(
        `SELECT table_name AS table, collation_name AS collation FROM information_schema.columns
          WHERE table_schema = $1 AND column_name = 'key_id' ORDER BY 1`,
        [USAGE_SCHEMA],
      );
    const rows = () => dataSource.query<unknown[]>(`SELECT "key_id", "count"::int AS count FROM "usage"."key_usage_minutes" ORDER BY 1`);
    try {
      await migrateUsageTracker(db.url);
      await dataSource.undoLastMigration({ transaction: 'all' });
      await dataSource.query(`INSERT INTO "usage"."key_usage_minutes" ("key_id", "minute", "count", "refused", "last_used_at")
        VALUES ('b', now(), 2, 0, now()), ('a', now(), 1, 0, now()), ('B', now(), 3, 0, now())`);
      const before = await rows();
      expect((await collations()).every((column) => column.collation === null)).toBe(true);

      expect(await migrateUsageTracker(db.url)).toEqual(['KeyIdsInByteOrder1796150000000']);
      const migrated = await collations();
      // The tables, their partitions (named by date) and the DEFAULT partitions.
      expect(migrated.map((column) => column.table)).toEqual(
        expect.arrayContaining([
          'key_usage_days',
          'key_usage_hours',
          'key_usage_late',
          'key_usage_minutes',
          minutePartition(Date.now()).name,
        ]),
      );
      expect(migrated.every((column) => column.collation === 'C')).toBe(true);
      // Byte order: upper case before lower case.
      expect(await rows()).toEqual([
        { key_id: 'B', count: 3 },
        { key_id: 'a', count: 1 },
        { key_id: 'b', count: 2 },
      ]);

      await dataSource.undoLastMigration({ transaction: 'all' });
      expect((await collations()).every((column) => column.collation === null)).toBe(true);
      expect(new Set(await rows())).toEqual(new Set(before));
      await dataSource.query(`DELETE FROM "usage"."key_usage_minutes"`);
      await migrateUsageTracker(db.url);
    } finally {
      await dataSource.destroy();
    }
  });
});
