import 'reflect-metadata';
import { applyMigrations, ensureDatabase, runMigrationScript } from '@app/common';
import { keyManagementDataSourceOptions } from './data-source-options.js';

/** Creates the database if missing, then applies every pending migration in one transaction. */
export async function migrateKeyManagement(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  return applyMigrations(keyManagementDataSourceOptions(databaseUrl, 1));
}

runMigrationScript('key-management', import.meta.url, migrateKeyManagement);
