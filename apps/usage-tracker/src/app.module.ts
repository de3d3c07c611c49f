import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, HealthModule, LoggerModule, NatsModule, PostgresModule, type Logger } from '@app/common';
import type { UsageTrackerConfig } from './config.js';
import { usageTrackerDataSourceOptions } from './database/data-source-options.js';
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
        // The usage schema only; the repositories are provided by the features that use them.
        PostgresModule.forRoot({
          dataSource: usageTrackerDataSourceOptions(config.databaseUrl, config.databasePoolSize, config.databaseTls),
        }),
        IngestModule,
        QueryModule,
        RollupModule,
      ],
    };
  }
}
