import { Global, Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ReadinessRegistry } from '@app/common';
import type { KeyManagementConfig } from '../config.js';
import { keyManagementDataSourceOptions } from './data-source-options.js';
import { KEY_MANAGEMENT_ENTITIES } from './entities/index.js';
import { Transactions } from './transactions.js';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { ChatbotsRepository } from '../chatbots/chatbots.repository.js';
import { KeysRepository } from '../keys/keys.repository.js';
import { UsersRepository } from '../users/users.repository.js';
import { AuditEventsRepository } from '../audit/audit-events.repository.js';
import { AuditLog } from '../audit/audit-log.js';

/** Every feature reads and writes through these; they are the only code that knows TypeORM. */
const REPOSITORIES = [AccountsRepository, ChatbotsRepository, UsersRepository, KeysRepository, AuditEventsRepository, AuditLog];

/** The Postgres connection, the repositories, transactions and a `postgres` readiness check. */
@Global()
@Module({})
export class DatabaseModule implements OnModuleInit {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
  ) {}

  static forRoot(config: KeyManagementConfig): DynamicModule {
    const feature = TypeOrmModule.forFeature(KEY_MANAGEMENT_ENTITIES);
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({
          ...keyManagementDataSourceOptions(config.databaseUrl, config.databasePoolSize, config.databaseTls),
          retryAttempts: 3,
          retryDelay: 1000,
        }),
        feature,
      ],
      providers: [Transactions, ...REPOSITORIES],
      exports: [Transactions, ...REPOSITORIES],
    };
  }

  onModuleInit(): void {
    this.readiness.register('postgres', () => this.dataSource.query('SELECT 1'));
  }
}
