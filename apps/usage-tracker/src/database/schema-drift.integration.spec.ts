import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@app/testing';
import { migrateUsageTracker } from './migrate.js';
import { usageTrackerDataSourceOptions } from './data-source-options.js';
import { USAGE_SCHEMA } from './usage-schema.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase(testEnvironment());
});

afterAll(async () => {
  await db?.drop();
});

const tablesBySchema = async (dataSource: DataSource) =>
  (await dataSource.query(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  )) as { schema: string; name: string }[];

describe('usage-tracker schema', () => {
  it('migrates into its own schema, beside key-management, and the entities agree with the migrations', async () => {
    const dataSource = await new DataSource(usageTrackerDataSourceOptions(db.url, 1)).initialize();
    try {
      const before = (await tablesBySchema(dataSource)).filter((table) => table.schema !== USAGE_SCHEMA);

      expect(await migrateUsageTracker(db.url)).toEqual(['UsageSchema1767225700000']);
      expect(await migrateUsageTracker(db.url)).toEqual([]);

      const tables = await tablesBySchema(dataSource);
      expect(tables.filter((table) => table.schema === USAGE_SCHEMA).map((table) => table.name)).toEqual([
        'applied_ranges',
        'key_last_used',
        'key_usage_minutes',
        'schema_migrations',
        'stream_state',
      ]);
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
      await dataSource.undoLastMigration({ transaction: 'all' });
      const left = (await tablesBySchema(dataSource)).filter((table) => table.schema === USAGE_SCHEMA).map((table) => table.name);
      expect(left).toEqual(['schema_migrations']);
      expect(await migrateUsageTracker(db.url)).toEqual(['UsageSchema1767225700000']);
    } finally {
      await dataSource.destroy();
    }
  });
});
