import { z } from 'zod';
import {
  BaseEnvSchema,
  baseConfig,
  DatabaseEnvSchema,
  databaseTls,
  env,
  loadConfig,
  type BaseConfig,
  type PostgresTlsSettings,
} from '@app/common';

const KeyManagementEnvSchema = BaseEnvSchema.extend({
  ...DatabaseEnvSchema.shape,
  KEY_MANAGEMENT_HTTP_PORT: env.port(8081),
  DATABASE_POOL_SIZE: env.positiveInt(10),
});

/** The audit retention job (`npm run audit:retention`, the CronJob `audit-retention`). */
export const AuditRetentionEnvSchema = z.object({
  ...DatabaseEnvSchema.shape,
  AUDIT_RETENTION_DAYS: env.positiveInt(365).pipe(z.number().max(36_500)),
});

export interface KeyManagementConfig extends BaseConfig {
  port: number;
  databaseUrl: string;
  /** TLS to PostgreSQL (DATABASE_CA_FILE / PGSSLROOTCERT, PGSSLMODE); absent: as the URL says. */
  databaseTls?: PostgresTlsSettings;
  databasePoolSize: number;
}

export function loadKeyManagementConfig(source: NodeJS.ProcessEnv = process.env): KeyManagementConfig {
  const parsed = loadConfig(KeyManagementEnvSchema, source);
  return {
    ...baseConfig(parsed),
    port: parsed.KEY_MANAGEMENT_HTTP_PORT,
    databaseUrl: parsed.DATABASE_URL,
    databaseTls: databaseTls(parsed),
    databasePoolSize: parsed.DATABASE_POOL_SIZE,
  };
}
