import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, HealthModule, LoggerModule, NatsModule, type Logger } from '@app/common';
import type { AuthVerifierConfig } from './config.js';
import { RedisModule } from './cache/redis.module.js';
import { VerifyModule } from './verify/verify.module.js';
import { InvalidationModule } from './invalidation/invalidation.module.js';

@Module({})
export class AuthVerifierModule {
  static forRoot(config: AuthVerifierConfig, logger: Logger): DynamicModule {
    return {
      module: AuthVerifierModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(logger),
        HealthModule,
        NatsModule.forRoot({ url: config.natsUrl, subjectPrefix: config.subjectPrefix, security: config.nats, name: 'auth-verifier' }),
        RedisModule.forRoot(config.redis),
        VerifyModule,
        InvalidationModule,
      ],
    };
  }
}
