import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { z } from 'zod';
import { env, loadConfig } from './config.js';

const DUPLICATE_DATABASE = '42P04';

/** DATABASE_URL, as every service that owns tables reads it. */
export const DatabaseEnvSchema = z.object({
  DATABASE_URL: env.url('postgres://postgres@127.0.0.1:5432/chatbot_keys', ['postgres:', 'postgresql:']),
});

/** Creates the database named by the URL when it is missing, using the server's `postgres` database. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!existing.rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } catch (error) {
    // Another migrator (the other service's, or a second job) created it between our check and our CREATE.
    if ((error as { code?: string }).code !== DUPLICATE_DATABASE) throw error;
  } finally {
    await client.end();
  }
}

/** Applies every pending migration of a data source in one transaction; answers the names applied. */
export async function applyMigrations(options: DataSourceOptions): Promise<string[]> {
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'all' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}

/**
 * Runs `migrate` for DATABASE_URL when the module at `moduleUrl` is the process's entry
 * script (the migration command and the k8s Job); exits 0 or 1 with one line saying what happened.
 */
export function runMigrationScript(service: string, moduleUrl: string, migrate: (databaseUrl: string) => Promise<string[]>): void {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  let databaseUrl: string;
  try {
    databaseUrl = loadConfig(DatabaseEnvSchema).DATABASE_URL;
  } catch (error) {
    process.stderr.write(`${service}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const { host, pathname } = new URL(databaseUrl);
  migrate(databaseUrl).then(
    (applied) => {
      process.stdout.write(`${service}: ${host}${pathname}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${service}: migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
