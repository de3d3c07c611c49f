import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createService, type Logger } from '@app/common';
import { KeyManagementModule } from './app.module.js';
import type { KeyManagementConfig } from './config.js';

/**
 * Starts key-management: the only service touching Postgres. It answers the lookup,
 * admin and management subjects over NATS; its HTTP port serves health and metrics only.
 */
export async function startKeyManagement(config: KeyManagementConfig, logger: Logger): Promise<NestFastifyApplication> {
  return createService({
    module: KeyManagementModule.forRoot(config, logger),
    logger,
    port: config.port,
    fastify: { return503OnClosing: true },
  });
}
