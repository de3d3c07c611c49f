import type { DataSourceOptions } from 'typeorm';
import { postgresConnection, type PostgresTlsSettings } from '@app/common';
import { KEY_MANAGEMENT_ENTITIES } from './entities/index.js';
import { KEY_MANAGEMENT_MIGRATIONS } from './migrations/index.js';

/**
 * One definition of the schema for the app, the migration command and the drift spec.
 * Migrations are listed as classes (no globs): the same list works from sources and
 * from the build. The schema only changes through them (`synchronize` stays off).
 */
export function keyManagementDataSourceOptions(databaseUrl: string, poolSize = 10, tls: PostgresTlsSettings = {}): DataSourceOptions {
  const { url, ssl } = postgresConnection(databaseUrl, tls);
  return {
    type: 'postgres',
    url,
    ssl,
    poolSize,
    entities: KEY_MANAGEMENT_ENTITIES,
    migrations: KEY_MANAGEMENT_MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    migrationsRun: false,
    // gen_random_uuid() is built into Postgres 13+; no extension to install.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    applicationName: 'key-management',
  };
}
