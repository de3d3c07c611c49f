import { Global, Inject, Module, type DynamicModule, type OnModuleInit, type Provider } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ReadinessRegistry } from './health.js';

export interface PostgresModuleOptions {
  dataSource: DataSourceOptions;
  /** Entities injected as TypeORM repositories (`@InjectRepository`). */
  repositories?: Parameters<typeof TypeOrmModule.forFeature>[0];
  /** The app's own repositories and transaction helpers, exported to every feature module. */
  providers?: Provider[];
}

/** The Postgres connection, the app's repositories and a `postgres` readiness check. */
@Global()
@Module({})
export class PostgresModule implements OnModuleInit {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
  ) {}

  static forRoot(options: PostgresModuleOptions): DynamicModule {
    const providers = options.providers ?? [];
    return {
      module: PostgresModule,
      imports: [
        TypeOrmModule.forRoot({ ...options.dataSource, retryAttempts: 3, retryDelay: 1000 }),
        ...(options.repositories ? [TypeOrmModule.forFeature(options.repositories)] : []),
      ],
      providers,
      exports: providers,
    };
  }

  onModuleInit(): void {
    this.readiness.register('postgres', () => this.dataSource.query('SELECT 1'));
  }
}
