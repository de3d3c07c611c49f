import pg from 'pg';
import { migrateKeyManagement } from '../../../apps/key-management/src/database/migrate.js';
import type { TestEnvironment } from './environment.js';

export interface TestDatabase {
  /** Connection URL of the run's own database, migrated to the latest schema. */
  url: string;
  drop(): Promise<void>;
}

/**
 * A database of the run's own on the test server, built by the real migrations (the
 * same ones production runs), named after the run so that runs never share data.
 */
export async function createTestDatabase(env: TestEnvironment): Promise<TestDatabase> {
  const url = new URL(env.postgresUrl);
  const name = env.runId.toLowerCase();
  url.pathname = `/${name}`;
  await migrateKeyManagement(url.toString());
  return { url: url.toString(), drop: () => dropDatabase(env.postgresUrl, name) };
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}
