import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DynamicModule, Type } from '@nestjs/common';
import type { FastifyServerOptions } from 'fastify';
import { ConfigError } from './config.js';
import { NestPinoLogger, type Logger } from './logger.js';

export interface ServiceOptions {
  module: DynamicModule | Type<unknown>;
  logger: Logger;
  port: number;
  host?: string;
  fastify?: FastifyServerOptions;
  /** Runs before the app starts listening, e.g. to mount the data plane on the Fastify instance. */
  beforeListen?: (app: NestFastifyApplication) => Promise<void> | void;
}

/** Creates a Nest app on Fastify with graceful shutdown (SIGTERM drains before exit). */
export async function createService(options: ServiceOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(options.module, new FastifyAdapter(options.fastify), {
    logger: new NestPinoLogger(options.logger),
    abortOnError: false,
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await options.beforeListen?.(app);
  await app.listen(options.port, options.host ?? '0.0.0.0');
  return app;
}

/** For `main.ts`: configuration errors name the variable and exit non-zero. */
export function runMain(service: string, main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    const message = error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`${service}: failed to start: ${message}\n`);
    process.exit(1);
  });
}
