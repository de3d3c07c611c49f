import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createService, type Logger } from '@app/common';
import { UsageTrackerModule } from './app.module.js';
import type { UsageTrackerConfig } from './config.js';

/**
 * Starts the usage-tracker: consumes `key.used` into per-key minute counts, answers the
 * usage queries, and serves health and metrics on its HTTP port.
 */
export async function startUsageTracker(config: UsageTrackerConfig, logger: Logger): Promise<NestFastifyApplication> {
  return createService({
    module: UsageTrackerModule.forRoot(config, logger),
    logger,
    port: config.port,
  });
}
