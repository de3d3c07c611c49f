import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { DataSource, MigrationExecutor, type DataSourceOptions } from 'typeorm';
import { z } from 'zod';
import { env, loadConfig } from './config.js';
import { postgresConnection, SSL_MODES, type PostgresTlsSettings } from './postgres-connection.js';
import { isUnreachable, retryWithBackoff } from './retry.js';

const DUPLICATE_DATABASE = '42P04';
const UNKNOWN_DATABASE = '3D000';

/** DATABASE_URL and its TLS settings, as every service that owns tables reads them. */
export const DatabaseEnvSchema = z.object({
  DATABASE_URL: env.url('postgres://postgres@127.0.0.1:5432/chatbot_keys', ['postgres:', 'postgresql:']),
  /** PEM file of the CA that signed the server's certificate (a managed service's bundle). */
  DATABASE_CA_FILE: env.optionalString(),
  /** libpq's name for the same file; DATABASE_CA_FILE wins when both are set. */
  PGSSLROOTCERT: env.optionalString(),
  /** libpq's sslmode when DATABASE_URL has no `sslmode` parameter. */
  PGSSLMODE: env.optionalString().pipe(z.enum(SSL_MODES).optional()),
});

export function databaseTls(parsed: z.infer<typeof DatabaseEnvSchema>): PostgresTlsSettings {
  return { caFile: parsed.DATABASE_CA_FILE ?? parsed.PGSSLROOTCERT, sslMode: parsed.PGSSLMODE };
}

/** What the migration command reads: the database, and how long it waits for it. */
export const MigrationEnvSchema = DatabaseEnvSchema.extend({
  /** How long the command retries (with back-off) while the database does not answer, or, with --wait, is not migrated. */
  MIGRATION_TIMEOUT_SECONDS: env.positiveInt(300),
});

async function withClient<T>(databaseUrl: string, tls: PostgresTlsSettings, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const { url, ssl } = postgresConnection(databaseUrl, tls);
  const client = new pg.Client({ connectionString: url, ssl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Makes sure the database named by the URL exists. It connects to that database first, so a
 * role without access to the server's `postgres` database (managed services, PgBouncer-style
 * poolers that only know the configured database) never needs it; only when the database is
 * missing does it ask the `postgres` database to create it (which needs CREATEDB).
 */
export async function ensureDatabase(databaseUrl: string, tls: PostgresTlsSettings = {}): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  if (!name) throw new Error('DATABASE_URL names no database');
  try {
    await withClient(databaseUrl, tls, async () => undefined);
    return;
  } catch (error) {
    if (sqlState(error) !== UNKNOWN_DATABASE) throw error;
  }
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  await withClient(maintenance.toString(), tls, async (client) => {
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } catch (error) {
      // Another migrator (the other service's, or a second job) created it first.
      if (sqlState(error) !== DUPLICATE_DATABASE) throw error;
    }
  });
}

/** Applies every pending migration of a data source in one transaction; answers the names applied. */
export async function applyMigrations(options: DataSourceOptions): Promise<string[]> {
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'all' });
    const missing = await new MigrationExecutor(dataSource).getPendingMigrations();
    // Every migration this build lists must now be recorded; anything else is a defect to stop on.
    if (missing.length) throw new Error(`still not applied after migrating: ${missing.map((migration) => migration.name).join(', ')}`);
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}

/** The migrations this build lists that the database has not recorded (all of them on an empty database). Reads only. */
export async function pendingMigrations(options: DataSourceOptions): Promise<string[]> {
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  try {
    return (await new MigrationExecutor(dataSource).getPendingMigrations()).map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}

export interface ServiceMigrations {
  /** Creates what the migrations need, applies every pending one; answers the names applied. */
  migrate(databaseUrl: string, tls: PostgresTlsSettings): Promise<string[]>;
  /** The migrations this build expects that the database lacks. */
  pending(databaseUrl: string, tls: PostgresTlsSettings): Promise<string[]>;
}

export interface MigrationRun {
  service: string;
  databaseUrl: string;
  tls: PostgresTlsSettings;
  timeoutMs: number;
  /** Wait until another process (the migration Job) has applied everything, never migrating. */
  wait: boolean;
  log: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * The migration command: migrates (or, with `wait`, waits for the migrations), retrying with
 * back-off while the database does not answer, up to `timeoutMs`. Resolves with the line to
 * print; rejects naming what failed: an unreachable database after the time is up, a failed
 * migration, or (waiting) the migrations still missing.
 */
export async function runMigrations(migrations: ServiceMigrations, run: MigrationRun): Promise<string> {
  const { host, pathname } = new URL(run.databaseUrl);
  const where = `${run.service}: ${host}${pathname}`;
  const retry = { timeoutMs: run.timeoutMs, sleep: run.sleep, now: run.now };
  if (!run.wait) {
    const applied = await retryWithBackoff(() => migrations.migrate(run.databaseUrl, run.tls), {
      ...retry,
      retryable: isUnreachable,
      onRetry: (error, delayMs) => run.log(`${where}: database not answering (${describe(error)}); retrying in ${delayMs} ms`),
    });
    return `${where}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`;
  }
  let missing: string[] = [];
  await retryWithBackoff(
    async () => {
      missing = await migrations.pending(run.databaseUrl, run.tls);
      if (missing.length) throw new MigrationsPending(missing);
    },
    {
      ...retry,
      retryable: (error) => error instanceof MigrationsPending || isUnreachable(error),
      onRetry: (error, delayMs) =>
        run.log(
          `${where}: ${error instanceof MigrationsPending ? error.message : `database not answering (${describe(error)})`}; checking again in ${delayMs} ms`,
        ),
    },
  );
  return `${where}: every migration this build expects is applied`;
}

class MigrationsPending extends Error {
  constructor(readonly names: string[]) {
    super(`waiting for the migrations ${names.join(', ')} (run the migration Job)`);
  }
}

/**
 * Runs the migration command for DATABASE_URL when the module at `moduleUrl` is the process's
 * entry script (`npm run migrate`, compose's `migrate`, the k8s Job, and with `--wait` the
 * services' init containers); exits 0 or 1 with one line saying what happened.
 */
export function runMigrationScript(service: string, moduleUrl: string, migrations: ServiceMigrations): void {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  let config: z.infer<typeof MigrationEnvSchema>;
  try {
    config = loadConfig(MigrationEnvSchema);
  } catch (error) {
    process.stderr.write(`${service}: ${describe(error)}\n`);
    process.exit(1);
  }
  runMigrations(migrations, {
    service,
    databaseUrl: config.DATABASE_URL,
    tls: databaseTls(config),
    timeoutMs: config.MIGRATION_TIMEOUT_SECONDS * 1000,
    wait: process.argv.includes('--wait'),
    log: (line) => process.stdout.write(`${line}\n`),
  }).then(
    (line) => {
      process.stdout.write(`${line}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${service}: migration failed: ${describe(error)}\n`);
      process.exit(1);
    },
  );
}

function sqlState(error: unknown): string | undefined {
  return (error as { code?: string } | undefined)?.code;
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length) return describe(error.errors[0]);
  return error instanceof Error ? error.message || (error as NodeJS.ErrnoException).code || error.name : String(error);
}
