import type { DynamicModule } from '@nestjs/common';
import { PostgresModule } from '@app/common';
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
export function keyManagementDatabase(config: KeyManagementConfig): DynamicModule {
  return PostgresModule.forRoot({
    dataSource: keyManagementDataSourceOptions(config.databaseUrl, config.databasePoolSize, config.databaseTls),
    repositories: KEY_MANAGEMENT_ENTITIES,
    providers: [Transactions, ...REPOSITORIES],
  });
}
