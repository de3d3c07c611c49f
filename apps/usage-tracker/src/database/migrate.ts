import 'reflect-metadata';
import pg from 'pg';
import { applyMigrations, ensureDatabase, runMigrationScript } from '@app/common';
import { usageTrackerDataSourceOptions } from './data-source-options.js';
import { USAGE_SCHEMA } from './usage-schema.js';

const UNIQUE_VIOLATION = '23505';

/** The tracker's tables live in a schema of their own, which must exist before its migrations table can. */
async function ensureSchema(databaseUrl: string): Promise<void> {
  const database = new pg.Client({ connectionString: databaseUrl });
  await database.connect();
  try {
    await database.query(`CREATE SCHEMA IF NOT EXISTS ${database.escapeIdentifier(USAGE_SCHEMA)}`);
  } catch (error) {
    // Concurrent CREATE SCHEMA IF NOT EXISTS can still collide on the catalog's unique index.
    if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
  } finally {
    await database.end();
  }
}

/** Creates the database and schema if missing, then applies every pending migration in one transaction. */
export async function migrateUsageTracker(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  await ensureSchema(databaseUrl);
  return applyMigrations(usageTrackerDataSourceOptions(databaseUrl, 1));
}

runMigrationScript('usage-tracker', import.meta.url, migrateUsageTracker);
