import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@app/testing';
import { keyManagementDataSourceOptions } from './data-source-options.js';
import { migrateKeyManagement } from './migrate.js';

/** CI's drift check: entities and migrations must describe the same schema. */
describe('key-management schema', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase(testEnvironment());
    dataSource = await new DataSource(keyManagementDataSourceOptions(database.url, 2)).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('needs no change after the migrations ran: entities and migrations agree', async () => {
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('has applied every migration, and running them again changes nothing', async () => {
    expect(await dataSource.showMigrations()).toBe(false);
    expect(await migrateKeyManagement(database.url)).toEqual([]);
  });

  it('reverts to an empty schema and migrates back up', async () => {
    for (let i = 0; i < dataSource.migrations.length; i++) await dataSource.undoLastMigration({ transaction: 'all' });
    const tables = await dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`,
    );
    expect(tables).toEqual([]);

    expect(await migrateKeyManagement(database.url)).toEqual(dataSource.migrations.map((migration) => migration.name));
    expect((await dataSource.driver.createSchemaBuilder().log()).upQueries).toEqual([]);
  });
});
