import { Global, Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ReadinessRegistry } from '@app/common';
import type { UsageTrackerConfig } from '../config.js';
import { usageTrackerDataSourceOptions } from './data-source-options.js';

/** The Postgres connection (usage schema only) and a `postgres` readiness check. */
@Global()
@Module({})
export class DatabaseModule implements OnModuleInit {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
  ) {}

  static forRoot(config: UsageTrackerConfig): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({
          ...usageTrackerDataSourceOptions(config.databaseUrl, config.databasePoolSize, config.databaseTls),
          retryAttempts: 3,
          retryDelay: 1000,
        }),
      ],
    };
  }

  onModuleInit(): void {
    this.readiness.register('postgres', () => this.dataSource.query('SELECT 1'));
  }
}
