import 'reflect-metadata';
import { applyMigrations, ensureDatabase, pendingMigrations, runMigrationScript, type PostgresTlsSettings } from '@app/common';
import { keyManagementDataSourceOptions } from './data-source-options.js';

/** Creates the database if missing, then applies every pending migration in one transaction. */
export async function migrateKeyManagement(databaseUrl: string, tls: PostgresTlsSettings = {}): Promise<string[]> {
  await ensureDatabase(databaseUrl, tls);
  return applyMigrations(keyManagementDataSourceOptions(databaseUrl, 1, tls));
}

/** The migrations this build expects that the database has not recorded. */
export function pendingKeyManagementMigrations(databaseUrl: string, tls: PostgresTlsSettings = {}): Promise<string[]> {
  return pendingMigrations(keyManagementDataSourceOptions(databaseUrl, 1, tls));
}

runMigrationScript('key-management', import.meta.url, { migrate: migrateKeyManagement, pending: pendingKeyManagementMigrations });
