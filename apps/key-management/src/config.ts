import { z } from 'zod';
import { BaseEnvSchema, baseConfig, env, loadConfig, type BaseConfig } from '@app/common';

/** What the migration command reads; the service reads it too. */
export const DatabaseEnvSchema = z.object({
  DATABASE_URL: env.url('postgres://postgres@127.0.0.1:5432/chatbot_keys', ['postgres:', 'postgresql:']),
});

const KeyManagementEnvSchema = BaseEnvSchema.extend({
  ...DatabaseEnvSchema.shape,
  KEY_MANAGEMENT_HTTP_PORT: env.port(8081),
  DATABASE_POOL_SIZE: env.positiveInt(10),
});

export interface KeyManagementConfig extends BaseConfig {
  port: number;
  databaseUrl: string;
  databasePoolSize: number;
}

export function loadKeyManagementConfig(source: NodeJS.ProcessEnv = process.env): KeyManagementConfig {
  const parsed = loadConfig(KeyManagementEnvSchema, source);
  return {
    ...baseConfig(parsed),
    port: parsed.KEY_MANAGEMENT_HTTP_PORT,
    databaseUrl: parsed.DATABASE_URL,
    databasePoolSize: parsed.DATABASE_POOL_SIZE,
  };
}
