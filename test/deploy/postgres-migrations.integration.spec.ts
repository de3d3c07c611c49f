import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { postgresConnection, runMigrations, type PostgresTlsSettings } from '@app/common';
import { startPrivatePostgres, type PrivateServer } from '@app/testing';
import { migrateKeyManagement, pendingKeyManagementMigrations } from '../../apps/key-management/src/database/migrate.js';
import { MIGRATIONS, migrate } from '../../scripts/system.mjs';
import { makeCertificates } from './certificates.js';

/**
 * The migration command against a PostgreSQL that behaves like a managed one: TLS enforced
 * with a certificate from a private CA, and an application role that may not open the
 * server's `postgres` database (as behind RDS Proxy or PgBouncer, which know only theirs).
 */
let dir: string;
let server: PrivateServer;
const caFile = () => join(dir, 'ca.crt');

/** A URL for the application role on the given host name, with URL parameters. */
const appUrl = (host: string, database: string, query = '') => `postgres://app@${host}:${server.port}/${database}${query}`;

async function connects(url: string, tls: PostgresTlsSettings = {}): Promise<true | string> {
  const { url: stripped, ssl } = postgresConnection(url, tls);
  const client = new pg.Client({ connectionString: stripped, ssl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deploy-postgres-'));
  server = await startPrivatePostgres({ tls: makeCertificates(dir) });
  const { url, ssl } = postgresConnection(server.url);
  const admin = new pg.Client({ connectionString: url, ssl });
  await admin.connect();
  await admin.query('CREATE ROLE app LOGIN');
  await admin.query('CREATE DATABASE app_db OWNER app');
  await admin.query('CREATE DATABASE empty_db OWNER app');
  await admin.query('CREATE DATABASE retry_db OWNER app');
  // The application role may not open the maintenance database, as on most managed services' poolers.
  await admin.query('REVOKE CONNECT ON DATABASE postgres FROM PUBLIC');
  await admin.end();
}, 60_000);

afterAll(async () => {
  await server?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('TLS to PostgreSQL, with libpq sslmode semantics', () => {
  it('sslmode=require encrypts without checking the certificate, as RDS and Cloud SQL URLs expect', async () => {
    expect(await connects(appUrl('127.0.0.1', 'app_db', '?sslmode=require'))).toBe(true);
  });

  it('refuses plaintext against a server that enforces TLS', async () => {
    expect(await connects(appUrl('127.0.0.1', 'app_db', '?sslmode=disable'))).toMatch(/no pg_hba.conf entry|SSL off/);
  });

  it('verify-full checks the chain against DATABASE_CA_FILE and the host name', async () => {
    expect(await connects(appUrl('localhost', 'app_db', '?sslmode=verify-full'), { caFile: caFile() })).toBe(true);
    expect(await connects(appUrl('127.0.0.1', 'app_db', '?sslmode=verify-full'), { caFile: caFile() })).toMatch(/altnames|IP/i);
    expect(await connects(appUrl('localhost', 'app_db', '?sslmode=verify-full'))).toMatch(/certificate/i);
  });

  it('verify-ca checks the chain but not the host name; the CA may come from PGSSLROOTCERT-style settings or the URL', async () => {
    expect(await connects(appUrl('127.0.0.1', 'app_db', '?sslmode=verify-ca'), { caFile: caFile() })).toBe(true);
    expect(await connects(appUrl('127.0.0.1', 'app_db', `?sslmode=verify-ca&sslrootcert=${encodeURIComponent(caFile())}`))).toBe(true);
    expect(() => postgresConnection(appUrl('127.0.0.1', 'app_db', '?sslmode=verify-ca'))).toThrow(/DATABASE_CA_FILE/);
  });

  it('takes the mode from PGSSLMODE when the URL has none, and verify-full when only a CA is given', async () => {
    expect(await connects(appUrl('127.0.0.1', 'app_db'), { sslMode: 'require' })).toBe(true);
    expect(postgresConnection(appUrl('localhost', 'app_db'), { caFile: caFile() }).sslMode).toBe('verify-full');
    expect(() => postgresConnection(appUrl('localhost', 'app_db', '?sslmode=allow'))).toThrow(/not supported/);
  });
});

describe('the migration command', () => {
  it('migrates the configured database without opening the `postgres` one', async () => {
    const url = appUrl('localhost', 'app_db', '?sslmode=verify-full');
    const tls = { caFile: caFile() };
    const applied = await migrateKeyManagement(url, tls);
    expect(applied.length).toBeGreaterThan(0);
    expect(await pendingKeyManagementMigrations(url, tls)).toEqual([]);
    expect(await migrateKeyManagement(url, tls)).toEqual([]);
  });

  it('with --wait, waits while migrations are missing and fails naming them when the time is up', async () => {
    const lines: string[] = [];
    const run = {
      service: 'key-management',
      databaseUrl: appUrl('127.0.0.1', 'empty_db', '?sslmode=require'),
      tls: {},
      timeoutMs: 1_500,
      wait: true,
      log: (line: string) => lines.push(line),
    };
    const migrations = { migrate: migrateKeyManagement, pending: pendingKeyManagementMigrations };
    const expected = await pendingKeyManagementMigrations(run.databaseUrl);
    expect(expected.length).toBeGreaterThan(0);
    await expect(runMigrations(migrations, run)).rejects.toThrow(expected[0]);
    expect(lines[0]).toContain('waiting for the migrations');
    await migrateKeyManagement(run.databaseUrl);
    await expect(runMigrations(migrations, run)).resolves.toContain('every migration this build expects is applied');
  });

  it('retries with back-off while the database does not answer, then migrates', async () => {
    await server.stop();
    const lines: string[] = [];
    const migrating = runMigrations(
      { migrate: migrateKeyManagement, pending: pendingKeyManagementMigrations },
      {
        service: 'key-management',
        databaseUrl: appUrl('127.0.0.1', 'retry_db', '?sslmode=require'),
        tls: {},
        timeoutMs: 60_000,
        wait: false,
        log: (line) => lines.push(line),
      },
    );
    // Started again only once the command has seen the refusal: the retry is what finds it.
    const { eventually } = await import('@app/testing');
    await eventually(
      async () => lines.length,
      (count) => count > 0,
      { timeoutMs: 10_000, intervalMs: 50, what: 'a retry' },
    );
    await server.start();
    await expect(migrating).resolves.toMatch(/retry_db: applied /);
    expect(lines[0]).toMatch(/database not answering \(.*ECONNREFUSED.*\); retrying in \d+ ms/);
  }, 60_000);

  it('fails before running anything when a migration entry is missing from the build', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'deploy-dist-'));
    try {
      mkdirSync(join(dist, 'apps'), { recursive: true });
      await expect(migrate({ ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }, { dist })).rejects.toThrow(
        MIGRATIONS[0],
      );
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
