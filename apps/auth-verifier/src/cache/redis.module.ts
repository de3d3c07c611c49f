import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { LOGGER, ReadinessRegistry, redisTlsOptions, type Logger } from '@app/common';
import { RateLimitedLog } from '../shared/rate-limited-log.js';

export const REDIS = Symbol('REDIS');

export interface RedisModuleOptions {
  url: string;
  /** REDIS_CA_FILE: a private CA for a rediss:// URL. */
  caFile?: string;
  commandTimeoutMs: number;
}

/**
 * The Redis client, tuned so that a dead Redis costs a verification nothing but a
 * cache miss: commands fail at once while disconnected (no offline queue, no retries)
 * and after `commandTimeoutMs` when Redis hangs, while the client keeps reconnecting.
 */
export function createRedisClient(options: RedisModuleOptions, logger: Logger): Redis {
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

@Global()
@Module({})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  static forRoot(options: RedisModuleOptions): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        {
          provide: REDIS,
          inject: [LOGGER, ReadinessRegistry],
          useFactory: (logger: Logger, readiness: ReadinessRegistry) => {
            const redis = createRedisClient(options, logger);
            // Reported, not required: without Redis every verify asks key-management instead.
            readiness.register('redis', async () => (await redis.ping()) === 'PONG', { required: false });
            return redis;
          },
        },
      ],
      exports: [REDIS],
    };
  }

  async onApplicationShutdown() {
    if (this.redis.status === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }
}
