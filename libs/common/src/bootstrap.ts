import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DynamicModule, Type } from '@nestjs/common';
import type { FastifyServerOptions } from 'fastify';
import { ConfigError } from './config.js';
import { DrainingFastifyAdapter } from './http-drain.js';
import { NestPinoLogger, type Logger } from './logger.js';
import { NatsBus } from './nats-bus.js';

const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
const SUBSCRIPTIONS_WAIT_MS = 2_000;

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
  await subscriptionsReceived(app);
  return app;
}

/**
 * A service that serves on the bus is started once the NATS server has its subscriptions: they are
 * sent when the handlers subscribe, and a flush (one round trip) proves the server took them, so a
 * request made the moment the service is up finds a responder instead of "no responders".
 */
async function subscriptionsReceived(app: NestFastifyApplication): Promise<void> {
  let bus: NatsBus;
  try {
    bus = app.get(NatsBus, { strict: false });
  } catch {
    return; // a service without the bus
  }
  if (bus.connection.isClosed()) return;
  // Bounded: with NATS unreachable the service still starts (not ready), and the server gets the
  // subscriptions when the connection is back.
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, SUBSCRIPTIONS_WAIT_MS)));
  await Promise.race([bus.connection.flush().catch(() => undefined), waited]);
  clearTimeout(timer);
}

/** For `main.ts`: configuration errors name the variable and exit non-zero. */
export function runMain(service: string, main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    const message = error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`${service}: failed to start: ${message}\n`);
    process.exit(1);
  });
}
