import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, HealthModule, LoggerModule, NatsModule, type Logger } from '@app/common';
import type { UsageTrackerConfig } from './config.js';
import { DatabaseModule } from './database/database.module.js';
import { IngestModule } from './ingest/ingest.module.js';
import { QueryModule } from './query/query.module.js';
import { RollupModule } from './rollup/rollup.module.js';

@Module({})
export class UsageTrackerModule {
  static forRoot(config: UsageTrackerConfig, logger: Logger): DynamicModule {
    return {
      module: UsageTrackerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(logger),
        HealthModule,
        NatsModule.forRoot({ url: config.natsUrl, subjectPrefix: config.subjectPrefix, security: config.nats, name: 'usage-tracker' }),
        DatabaseModule.forRoot(config),
        IngestModule,
        QueryModule,
        RollupModule,
      ],
    };
  }
}
