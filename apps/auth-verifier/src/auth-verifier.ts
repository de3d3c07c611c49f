import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createService, type Logger } from '@app/common';
import { AuthVerifierModule } from './app.module.js';
import type { AuthVerifierConfig } from './config.js';

/** Starts the auth-verifier: answers `auth.verify` on NATS; its HTTP port serves health and metrics only. */
export async function startAuthVerifier(config: AuthVerifierConfig, logger: Logger): Promise<NestFastifyApplication> {
  return createService({
    module: AuthVerifierModule.forRoot(config, logger),
    logger,
    port: config.port,
    fastify: { return503OnClosing: true },
  });
}
