import {
  BaseEnvSchema,
  baseConfig,
  env,
  loadConfig,
  redisCaNeedsTls,
  RedisEnvSchema,
  redisSettings,
  type BaseConfig,
  type RedisSettings,
} from '@app/common';

const AuthVerifierEnvSchema = BaseEnvSchema.extend({
  AUTH_VERIFIER_HTTP_PORT: env.port(8082),
  ...RedisEnvSchema.shape,
  AUTH_VERIFIER_CACHE_TTL_MS: env.positiveInt(60_000),
  AUTH_VERIFIER_NEGATIVE_CACHE_TTL_MS: env.positiveInt(10_000),
  /** Per key-management lookup; a verify makes at most two in a row, well inside the gateway's 2 s. */
  LOOKUP_TIMEOUT_MS: env.positiveInt(750),
  /** Bound on each in-memory structure (revoked keys, plan overrides, deleted chatbots, change log). */
  AUTH_VERIFIER_MEMORY_MAX_ENTRIES: env.positiveInt(100_000),
}).refine(...redisCaNeedsTls);

export interface AuthVerifierConfig extends BaseConfig {
  port: number;
  redis: RedisSettings;
  cache: { ttlMs: number; negativeTtlMs: number };
  lookupTimeoutMs: number;
  memoryMaxEntries: number;
}

export function loadAuthVerifierConfig(source: NodeJS.ProcessEnv = process.env): AuthVerifierConfig {
  const parsed = loadConfig(AuthVerifierEnvSchema, source);
  return {
    ...baseConfig(parsed),
    port: parsed.AUTH_VERIFIER_HTTP_PORT,
    redis: redisSettings(parsed),
    cache: { ttlMs: parsed.AUTH_VERIFIER_CACHE_TTL_MS, negativeTtlMs: parsed.AUTH_VERIFIER_NEGATIVE_CACHE_TTL_MS },
    lookupTimeoutMs: parsed.LOOKUP_TIMEOUT_MS,
    memoryMaxEntries: parsed.AUTH_VERIFIER_MEMORY_MAX_ENTRIES,
  };
}
