import type { DataSourceOptions } from 'typeorm';
import { postgresConnection, type PostgresTlsSettings } from '@app/common';
import { USAGE_TRACKER_ENTITIES } from './entities/index.js';
import { USAGE_TRACKER_MIGRATIONS } from './migrations/index.js';
import { USAGE_SCHEMA } from './usage-schema.js';

/**
 * One definition of the schema for the app, the migration command and the drift spec.
 * `schema` puts the migrations table in the usage schema too, apart from
 * key-management's. Migrations are listed as classes, so sources and build agree.
 */
export function usageTrackerDataSourceOptions(databaseUrl: string, poolSize = 5, tls: PostgresTlsSettings = {}): DataSourceOptions {
  const { url, ssl } = postgresConnection(databaseUrl, tls);
  return {
    type: 'postgres',
    url,
    ssl,
    poolSize,
    schema: USAGE_SCHEMA,
    entities: USAGE_TRACKER_ENTITIES,
    migrations: USAGE_TRACKER_MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    applicationName: 'usage-tracker',
  };
}
