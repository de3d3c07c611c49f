import { z } from 'zod';
import { BaseEnvSchema, baseConfig, env, loadConfig, type BaseConfig } from '@app/common';

const AuthVerifierEnvSchema = BaseEnvSchema.extend({
  AUTH_VERIFIER_HTTP_PORT: env.port(8082),
  REDIS_URL: env.url('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
  /** PEM file of a private CA for a rediss:// REDIS_URL (a managed Redis' server CA). */
  REDIS_CA_FILE: env.optionalString(),
  REDIS_KEY_PREFIX: env
    .optionalString()
    .pipe(z.string().max(64).regex(/^[A-Za-z0-9:_.-]+$/, 'must be letters, digits or : _ . -').optional()),
  /** A Redis that does not answer in this time counts as down for that command: verification falls back to key-management. */
  REDIS_COMMAND_TIMEOUT_MS: env.positiveInt(250),
  AUTH_VERIFIER_CACHE_TTL_MS: env.positiveInt(60_000),
  AUTH_VERIFIER_NEGATIVE_CACHE_TTL_MS: env.positiveInt(10_000),
  /** Per key-management lookup; a verify makes at most two in a row, well inside the gateway's 2 s. */
  LOOKUP_TIMEOUT_MS: env.positiveInt(750),
  /** Bound on each in-memory structure (revoked keys, plan overrides, deleted chatbots, change log). */
  AUTH_VERIFIER_MEMORY_MAX_ENTRIES: env.positiveInt(100_000),
}).refine((vars) => !vars.REDIS_CA_FILE || vars.REDIS_URL.startsWith('rediss:'), {
  message: 'REDIS_CA_FILE needs a rediss:// REDIS_URL (TLS)',
  path: ['REDIS_CA_FILE'],
});

export interface AuthVerifierConfig extends BaseConfig {
  port: number;
  redis: { url: string; caFile?: string; keyPrefix: string; commandTimeoutMs: number };
  cache: { ttlMs: number; negativeTtlMs: number };
  lookupTimeoutMs: number;
  memoryMaxEntries: number;
}

export function loadAuthVerifierConfig(source: NodeJS.ProcessEnv = process.env): AuthVerifierConfig {
  const parsed = loadConfig(AuthVerifierEnvSchema, source);
  return {
    ...baseConfig(parsed),
    port: parsed.AUTH_VERIFIER_HTTP_PORT,
    redis: {
      url: parsed.REDIS_URL,
      caFile: parsed.REDIS_CA_FILE,
      keyPrefix: parsed.REDIS_KEY_PREFIX ?? 'cbk:',
      commandTimeoutMs: parsed.REDIS_COMMAND_TIMEOUT_MS,
    },
    cache: { ttlMs: parsed.AUTH_VERIFIER_CACHE_TTL_MS, negativeTtlMs: parsed.AUTH_VERIFIER_NEGATIVE_CACHE_TTL_MS },
    lookupTimeoutMs: parsed.LOOKUP_TIMEOUT_MS,
    memoryMaxEntries: parsed.AUTH_VERIFIER_MEMORY_MAX_ENTRIES,
  };
}
