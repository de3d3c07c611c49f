import { z } from 'zod';
import { env } from './config.js';
import { redisClusterUrlProblem, type RedisClientOptions } from './redis-client.js';
import { isTlsRedisUrl } from './redis-tls.js';

/** The Redis variables every service that uses Redis reads (the verifier's cache, the gateways' rate-limit counts). */
export const RedisEnvSchema = z.object({
  /** One Redis (`redis://`, `rediss://`) or a Redis Cluster (`redis+cluster://`, `rediss+cluster://` and one node to discover the rest from). */
  REDIS_URL: env.url('redis://127.0.0.1:6379', ['redis:', 'rediss:', 'redis+cluster:', 'rediss+cluster:']).superRefine((url, context) => {
    const problem = redisClusterUrlProblem(url);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  }),
  /** PEM file of a private CA for a rediss:// REDIS_URL (a managed Redis' server CA). */
  REDIS_CA_FILE: env.optionalString(),
  REDIS_KEY_PREFIX: env.optionalString().pipe(
    z
      .string()
      .max(64)
      .regex(/^[A-Za-z0-9:_.-]+$/, 'must be letters, digits or : _ . -')
      .optional(),
  ),
  /** A Redis that does not answer in this time counts as down for that command: the caller degrades. */
  REDIS_COMMAND_TIMEOUT_MS: env.positiveInt(250),
});

type RedisEnv = z.infer<typeof RedisEnvSchema>;

/** For `.refine`: a CA file only makes sense with TLS, so a plaintext URL with one is refused at start. */
export const redisCaNeedsTls: [
  check: (vars: Pick<RedisEnv, 'REDIS_URL' | 'REDIS_CA_FILE'>) => boolean,
  issue: { message: string; path: string[] },
] = [
  (vars) => !vars.REDIS_CA_FILE || isTlsRedisUrl(vars.REDIS_URL),
  { message: 'REDIS_CA_FILE needs a rediss:// REDIS_URL (TLS)', path: ['REDIS_CA_FILE'] },
];

export interface RedisSettings extends RedisClientOptions {
  keyPrefix: string;
}

export function redisSettings(parsed: RedisEnv): RedisSettings {
  return {
    url: parsed.REDIS_URL,
    caFile: parsed.REDIS_CA_FILE,
    keyPrefix: parsed.REDIS_KEY_PREFIX ?? 'cbk:',
    commandTimeoutMs: parsed.REDIS_COMMAND_TIMEOUT_MS,
  };
}
