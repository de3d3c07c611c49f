import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule, HealthRoutesModule, LoggerModule, NatsModule, type Logger } from '@app/common';
import type { GatewayConfig } from './config.js';
import { ApiExceptionFilter } from './http/api-exception.filter.js';
import { AuthModule } from './auth/auth.module.js';
import { DataPlaneModule } from './data-plane/data-plane.module.js';
import { ManagementModule } from './management/management.module.js';
import { AdminModule } from './admin/admin.module.js';
import { MetricsServer } from './http/metrics-server.js';
import { SecretScanningModule } from './secret-scanning/secret-scanning.module.js';

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(logger),
        // The public port serves the health routes; /metrics is on MetricsServer's port only.
        HealthRoutesModule,
        // NATS is shared by every replica: taking them all out of rotation while it is down would
        // turn "cached keys served, the rest 503 auth_unavailable" into no answer at all.
        NatsModule.forRoot({
          url: config.natsUrl,
          subjectPrefix: config.subjectPrefix,
          security: config.nats,
          name: 'gateway',
          readinessRequired: false,
        }),
        AuthModule,
        DataPlaneModule,
        ManagementModule,
        AdminModule,
        SecretScanningModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ApiExceptionFilter }, MetricsServer],
    };
  }
}
