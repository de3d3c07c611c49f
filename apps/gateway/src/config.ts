import { z } from 'zod';
import { BaseEnvSchema, baseConfig, env, loadConfig, type BaseConfig } from '@app/common';

const GatewayEnvSchema = BaseEnvSchema.extend({
  GATEWAY_PORT: env.port(8080),
  UPSTREAM_URL: env.url('http://127.0.0.1:8090', ['http:', 'https:']),
  ADMIN_TOKEN: env.optionalString().pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  BODY_LIMIT_BYTES: env.positiveInt(10 * 1024 * 1024),
  ROUTES_FILE: env.optionalString(),
  UPSTREAM_TIMEOUT_MS: env.positiveInt(30_000),
  UPSTREAM_CONNECTIONS: env.positiveInt(128),
  VERIFY_TIMEOUT_MS: env.positiveInt(2_000),
  AUTH_CACHE_MAX_ENTRIES: env.positiveInt(100_000),
  AUTH_CACHE_TTL_MS: env.positiveInt(30_000),
  AUTH_NEGATIVE_CACHE_TTL_MS: env.positiveInt(5_000),
});

export interface GatewayConfig extends BaseConfig {
  port: number;
  upstreamUrl: string;
  adminToken: string | undefined;
  bodyLimitBytes: number;
  routesFile: string | undefined;
  upstreamTimeoutMs: number;
  upstreamConnections: number;
  verifyTimeoutMs: number;
  authCache: { maxEntries: number; ttlMs: number; negativeTtlMs: number };
}

export function loadGatewayConfig(source: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = loadConfig(GatewayEnvSchema, source);
  return {
    ...baseConfig(parsed),
    port: parsed.GATEWAY_PORT,
    upstreamUrl: parsed.UPSTREAM_URL,
    adminToken: parsed.ADMIN_TOKEN,
    bodyLimitBytes: parsed.BODY_LIMIT_BYTES,
    routesFile: parsed.ROUTES_FILE,
    upstreamTimeoutMs: parsed.UPSTREAM_TIMEOUT_MS,
    upstreamConnections: parsed.UPSTREAM_CONNECTIONS,
    verifyTimeoutMs: parsed.VERIFY_TIMEOUT_MS,
    authCache: {
      maxEntries: parsed.AUTH_CACHE_MAX_ENTRIES,
      ttlMs: parsed.AUTH_CACHE_TTL_MS,
      negativeTtlMs: parsed.AUTH_NEGATIVE_CACHE_TTL_MS,
    },
  };
}
