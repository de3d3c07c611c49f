import { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { redisTlsOptions } from './redis-tls.js';

export interface RedisClientOptions {
  url: string;
  /** REDIS_CA_FILE: a private CA for a rediss:// URL. */
  caFile?: string;
  commandTimeoutMs: number;
}

/**
 * The Redis client, tuned so that a dead Redis costs its caller only what Redis adds (a cache
 * miss, a rate limit counted per replica): commands fail at once while disconnected (no offline
 * queue, no retries) and after `commandTimeoutMs` when Redis hangs, while the client keeps reconnecting.
 */
export function createRedisClient(options: RedisClientOptions, logger: Logger): Redis {
  const redis = new Redis(options.url, {
    ...redisTlsOptions(options.url, options.caFile),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  });
  const connectionErrors = new RateLimitedLog(logger);
  redis.on('error', (error: Error) => connectionErrors.warn({ reason: error.message }, 'Redis connection error'));
  return redis;
}
