import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CONFIG, createRedisClient, LOGGER, ReadinessRegistry, type Logger, type RedisClient } from '@app/common';
import type { GatewayConfig } from '../config.js';
import { DEFAULT_RATE_LIMITER_OPTIONS, KeyRateLimiter } from './key-rate-limiter.js';
import { rateLimitShared } from './rate-limit-metrics.js';
import { RedisRateLimitStore } from './redis-rate-limit-store.js';

const RATE_LIMIT_REDIS = Symbol('RATE_LIMIT_REDIS');

/**
 * Gives the data plane a `KeyRateLimiter` sharing counts through Redis. Redis is reported
 * in readiness but not required: without it every replica limits on its own.
 */
@Module({
  providers: [
    {
      provide: RATE_LIMIT_REDIS,
      inject: [CONFIG, LOGGER, ReadinessRegistry],
      useFactory: (config: GatewayConfig, logger: Logger, readiness: ReadinessRegistry) => {
        const { url, caFile, commandTimeoutMs } = config.redis;
        const redis = createRedisClient({ url, caFile, commandTimeoutMs }, logger);
        readiness.register('redis', async () => (await redis.ping()) === 'PONG', { required: false });
        return redis;
      },
    },
    {
      provide: KeyRateLimiter,
      inject: [CONFIG, LOGGER, RATE_LIMIT_REDIS],
      useFactory: (config: GatewayConfig, logger: Logger, redis: RedisClient) =>
        new KeyRateLimiter(
          new RedisRateLimitStore(redis, config.redis.keyPrefix),
          {
            ...DEFAULT_RATE_LIMITER_OPTIONS,
            syncIntervalMs: config.rateLimit.syncIntervalMs,
            maxKeys: config.rateLimit.maxKeys,
            syncTimeoutMs: config.redis.commandTimeoutMs,
          },
          Date.now,
          (shared) => {
            rateLimitShared.set(shared ? 1 : 0);
            if (shared) logger.info('rate limits are shared across replicas again (Redis reachable)');
            else logger.warn('Redis unreachable: rate limits are counted per replica until it is back');
          },
        ),
    },
  ],
  exports: [KeyRateLimiter],
})
export class RateLimitModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(KeyRateLimiter) private readonly limiter: KeyRateLimiter,
    @Inject(RATE_LIMIT_REDIS) private readonly redis: RedisClient,
  ) {}

  onModuleInit(): void {
    rateLimitShared.set(1);
    this.limiter.start();
  }

  async onApplicationShutdown(): Promise<void> {
    // The last admissions are pushed before the connection closes: a restarted replica keeps the count.
    await this.limiter.stop();
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }
}
