import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, HealthModule, LoggerModule, NatsModule, type Logger } from '@app/common';
import { AdminModule } from './admin/admin.module.js';
import type { KeyManagementConfig } from './config.js';
import { keyManagementDatabase } from './database/database.module.js';
import { EventsModule } from './events/events.module.js';
import { LookupModule } from './lookup/lookup.module.js';
import { ManagementModule } from './management/management.module.js';

@Module({})
export class KeyManagementModule {
  static forRoot(config: KeyManagementConfig, logger: Logger): DynamicModule {
    return {
      module: KeyManagementModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(logger),
        HealthModule,
        NatsModule.forRoot({ url: config.natsUrl, subjectPrefix: config.subjectPrefix, security: config.nats, name: 'key-management' }),
        keyManagementDatabase(config),
        EventsModule,
        LookupModule,
        AdminModule,
        ManagementModule,
      ],
    };
  }
}
