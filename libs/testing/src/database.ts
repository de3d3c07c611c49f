import { migrateKeyManagement } from '../../../apps/key-management/src/database/migrate.js';
import { dropDatabase } from '../../../scripts/run-namespace.mjs';
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
  await migrateKeyManagement(env.databaseUrl);
  return { url: env.databaseUrl, drop: () => dropDatabase(env.postgresUrl, new URL(env.databaseUrl).pathname.slice(1)) };
}
