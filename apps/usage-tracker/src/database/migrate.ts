import 'reflect-metadata';
import pg from 'pg';
import {
  applyMigrations,
  ensureDatabase,
  isUniqueViolation,
  pendingMigrations,
  postgresConnection,
  runMigrationScript,
  type PostgresTlsSettings,
} from '@app/common';
import { usageTrackerDataSourceOptions } from './data-source-options.js';
import { USAGE_SCHEMA } from './usage-schema.js';

/** The tracker's tables live in a schema of their own, which must exist before its migrations table can. */
async function ensureSchema(databaseUrl: string, tls: PostgresTlsSettings): Promise<void> {
  const { url, ssl } = postgresConnection(databaseUrl, tls);
  const database = new pg.Client({ connectionString: url, ssl });
  await database.connect();
  try {
    await database.query(`CREATE SCHEMA IF NOT EXISTS ${database.escapeIdentifier(USAGE_SCHEMA)}`);
  } catch (error) {
    // Concurrent CREATE SCHEMA IF NOT EXISTS can still collide on the catalog's unique index.
    if (!isUniqueViolation(error)) throw error;
  } finally {
    await database.end();
  }
}

/** Creates the database and schema if missing, then applies every pending migration in one transaction. */
export async function migrateUsageTracker(databaseUrl: string, tls: PostgresTlsSettings = {}): Promise<string[]> {
  await ensureDatabase(databaseUrl, tls);
  await ensureSchema(databaseUrl, tls);
  return applyMigrations(usageTrackerDataSourceOptions(databaseUrl, 1, tls));
}

/** The migrations this build expects that the database has not recorded. */
export function pendingUsageTrackerMigrations(databaseUrl: string, tls: PostgresTlsSettings = {}): Promise<string[]> {
  return pendingMigrations(usageTrackerDataSourceOptions(databaseUrl, 1, tls));
}

runMigrationScript('usage-tracker', import.meta.url, { migrate: migrateUsageTracker, pending: pendingUsageTrackerMigrations });
