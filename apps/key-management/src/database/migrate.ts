import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '@app/common';
import { DatabaseEnvSchema } from '../config.js';
import { keyManagementDataSourceOptions } from './data-source-options.js';

const DUPLICATE_DATABASE = '42P04';

/** Creates the database named by the URL when it is missing, using the server's `postgres` database. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount) return;
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } catch (error) {
    // Another migrator created it between our check and our CREATE.
    if ((error as { code?: string }).code !== DUPLICATE_DATABASE) throw error;
  } finally {
    await client.end();
  }
}

/** Creates the database if missing, then applies every pending migration in one transaction. */
export async function migrateKeyManagement(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const dataSource = new DataSource(keyManagementDataSourceOptions(databaseUrl, 1));
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
    process.stderr.write(`key-management: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  migrateKeyManagement(databaseUrl).then(
    (applied) => {
      process.stdout.write(
        `key-management: ${databaseLabel(databaseUrl)}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}\n`,
      );
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`key-management: migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
