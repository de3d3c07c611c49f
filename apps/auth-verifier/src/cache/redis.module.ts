import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { createRedisClient, LOGGER, ReadinessRegistry, type Logger, type RedisClient, type RedisClientOptions } from '@app/common';

export const REDIS = Symbol('REDIS');

export type RedisModuleOptions = RedisClientOptions;

@Global()
@Module({})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

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
