import type { Server } from 'node:http';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyServerOptions } from 'fastify';
import type { Logger } from './logger.js';

/** How often idle keep-alive connections are closed while draining: a finished request frees its connection soon. */
const IDLE_SWEEP_MS = 100;

/**
 * A Fastify adapter whose shutdown starts by draining HTTP, before any Nest shutdown hook:
 * the port stops accepting connections, requests on open keep-alive connections are answered
 * `503 service_unavailable` with `Connection: close`, and requests in flight (streamed answers
 * too) finish, for at most `graceMs`; then what is left is cut. Only then do the hooks run
 * (flushing `key.used`, draining NATS), so nothing a finished request did is lost.
 */
export class DrainingFastifyAdapter extends FastifyAdapter {
  private draining = false;

  constructor(
    options: FastifyServerOptions | undefined,
    private readonly graceMs: number,
    private readonly drainLogger: Logger,
  ) {
    super(options);
    this.getInstance().addHook('onRequest', (request, reply, done) => {
      if (!this.draining) return done();
      void reply
        .code(503)
        .headers({ connection: 'close', 'retry-after': '1', 'x-request-id': request.id })
        .type('application/json; charset=utf-8')
        .send({ error: { code: 'service_unavailable', message: 'the service is shutting down', requestId: request.id } });
    });
  }

  /** Called by Nest first when the app closes (`app.close()` or a shutdown signal). */
  // Nest awaits beforeClose() (NestApplication.close), though HttpServer declares it void.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  override async beforeClose(): Promise<void> {
    super.beforeClose();
    if (this.draining) return;
    this.draining = true;
    await drainHttpServer(this.getHttpServer<Server>(), this.graceMs, this.drainLogger);
  }
}

async function drainHttpServer(server: Server, graceMs: number, logger: Logger): Promise<void> {
  if (!server.listening) return;
  const startedAt = Date.now();
  await new Promise<void>((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const cut = setTimeout(() => {
      logger.warn({ graceMs }, 'requests still in flight after the shutdown grace period: closing their connections');
      server.closeAllConnections();
    }, graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(cut);
      resolve();
    });
  });
  logger.info({ ms: Date.now() - startedAt }, 'HTTP drained');
}
