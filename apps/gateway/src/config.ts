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
  SSO_JWKS_URL: env.optionalString().pipe(z.url({ protocol: /^https?$/ }).optional()),
  SSO_JWKS_FILE: env.optionalString(),
  SSO_ISSUER: env.optionalString(),
  SSO_AUDIENCE: env.optionalString(),
  SSO_HS256_SECRET: env.optionalString().pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  SSO_CLOCK_SKEW_SECONDS: env.positiveInt(30),
  SSO_JWKS_COOLDOWN_MS: env.positiveInt(30_000),
  USAGE_STREAM_REPLICAS: env.positiveInt(1).pipe(z.number().max(5)),
  SHUTDOWN_GRACE_MS: env.positiveInt(20_000),
  /** Where replicas share per-key rate-limit counts; without it each replica limits on its own. */
  REDIS_URL: env.url('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
  REDIS_KEY_PREFIX: env
    .optionalString()
    .pipe(z.string().max(64).regex(/^[A-Za-z0-9:_.-]+$/, 'must be letters, digits or : _ . -').optional()),
  REDIS_COMMAND_TIMEOUT_MS: env.positiveInt(250),
  /** How often rate-limit counts are exchanged with the other replicas (through Redis). */
  RATE_LIMIT_SYNC_MS: env.positiveInt(50).pipe(z.number().min(10).max(1_000)),
  RATE_LIMIT_MAX_KEYS: env.positiveInt(100_000),
})
  .refine((vars) => !(vars.SSO_JWKS_URL && vars.SSO_JWKS_FILE), {
    message: 'set SSO_JWKS_URL or SSO_JWKS_FILE, not both',
    path: ['SSO_JWKS_FILE'],
  })
  .refine((vars) => !(vars.SSO_JWKS_URL || vars.SSO_JWKS_FILE) || (vars.SSO_ISSUER && vars.SSO_AUDIENCE), {
    message: 'a JWKS needs SSO_ISSUER and SSO_AUDIENCE',
    path: ['SSO_ISSUER'],
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
  sso: SsoConfig;
  /** Replicas of the key.used stream when it is first created (3 on a NATS cluster). */
  usageStreamReplicas: number;
  /** On SIGTERM, how long requests in flight (SSE streams too) may still run before they are cut. */
  shutdownGraceMs: number;
  redis: { url: string; keyPrefix: string; commandTimeoutMs: number };
  rateLimit: { syncIntervalMs: number; maxKeys: number };
}

/** SSO tokens for the management API (contract section 8); with none of these set, every token is refused. */
export interface SsoConfig {
  jwksUrl: string | undefined;
  jwksFile: string | undefined;
  issuer: string | undefined;
  audience: string | undefined;
  hs256Secret: string | undefined;
  clockSkewSeconds: number;
  /** Least time between two JWKS fetches; a token with an unknown `kid` refetches after it. */
  jwksCooldownMs: number;
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
    usageStreamReplicas: parsed.USAGE_STREAM_REPLICAS,
    sso: {
      jwksUrl: parsed.SSO_JWKS_URL,
      jwksFile: parsed.SSO_JWKS_FILE,
      issuer: parsed.SSO_ISSUER,
      audience: parsed.SSO_AUDIENCE,
      hs256Secret: parsed.SSO_HS256_SECRET,
      clockSkewSeconds: parsed.SSO_CLOCK_SKEW_SECONDS,
      jwksCooldownMs: parsed.SSO_JWKS_COOLDOWN_MS,
    },
    shutdownGraceMs: parsed.SHUTDOWN_GRACE_MS,
    redis: { url: parsed.REDIS_URL, keyPrefix: parsed.REDIS_KEY_PREFIX ?? 'cbk:', commandTimeoutMs: parsed.REDIS_COMMAND_TIMEOUT_MS },
    rateLimit: { syncIntervalMs: parsed.RATE_LIMIT_SYNC_MS, maxKeys: parsed.RATE_LIMIT_MAX_KEYS },
  };
}
