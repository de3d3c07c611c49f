import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '@app/common';
import { DatabaseEnvSchema } from '../config.js';
import { usageTrackerDataSourceOptions } from './data-source-options.js';
import { USAGE_SCHEMA } from './usage-schema.js';

const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';

/** Creates the database named by the URL when it is missing, then the usage schema in it. */
async function ensureDatabaseAndSchema(databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const server = new pg.Client({ connectionString: admin.toString() });
  await server.connect();
  try {
    const existing = await server.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!existing.rowCount) await server.query(`CREATE DATABASE ${server.escapeIdentifier(name)}`);
  } catch (error) {
    // Another migrator (key-management's, or a second replica) created it first.
    if ((error as { code?: string }).code !== DUPLICATE_DATABASE) throw error;
  } finally {
    await server.end();
  }
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
  await ensureDatabaseAndSchema(databaseUrl);
  const dataSource = new DataSource(usageTrackerDataSourceOptions(databaseUrl, 1));
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'all' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}

function databaseLabel(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.host}${url.pathname}`;
}

const runAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;

if (runAsScript) {
  let databaseUrl: string;
  try {
    databaseUrl = loadConfig(DatabaseEnvSchema).DATABASE_URL;
  } catch (error) {
    process.stderr.write(`usage-tracker: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  migrateUsageTracker(databaseUrl).then(
    (applied) => {
      process.stdout.write(
        `usage-tracker: ${databaseLabel(databaseUrl)}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}\n`,
      );
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`usage-tracker: migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
