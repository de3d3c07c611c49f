import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DynamicModule, Type } from '@nestjs/common';
import type { FastifyServerOptions } from 'fastify';
import { ConfigError } from './config.js';
import { DrainingFastifyAdapter } from './http-drain.js';
import { NestPinoLogger, type Logger } from './logger.js';

const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export interface ServiceOptions {
  module: DynamicModule | Type<unknown>;
  logger: Logger;
  port: number;
  host?: string;
  fastify?: FastifyServerOptions;
  /** How long shutdown waits for requests in flight (streamed answers too) before cutting them; default 10 s. */
  shutdownGraceMs?: number;
  /** Runs before the app starts listening, e.g. to mount the data plane on the Fastify instance. */
  beforeListen?: (app: NestFastifyApplication) => Promise<void> | void;
}

/**
 * Creates a Nest app on Fastify with graceful shutdown. On SIGTERM or SIGINT: HTTP drains
 * first (DrainingFastifyAdapter), then the Nest hooks run (publishers flush, subscriptions and
 * NATS drain, pools close), then the process exits 0, as Kubernetes and compose expect from a
 * clean stop; a failing shutdown exits 1. (Nest's default would re-raise the signal instead.)
 */
export async function createService(options: ServiceOptions): Promise<NestFastifyApplication> {
  const adapter = new DrainingFastifyAdapter(options.fastify, options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS, options.logger);
  const app = await NestFactory.create<NestFastifyApplication>(options.module, adapter, {
    logger: new NestPinoLogger(options.logger),
    abortOnError: false,
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
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
