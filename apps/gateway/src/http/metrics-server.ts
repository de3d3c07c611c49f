import type { AddressInfo } from 'node:net';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import Fastify, { type FastifyInstance } from 'fastify';
import { register } from 'prom-client';
import { CONFIG, readinessAnswer, ReadinessRegistry } from '@app/common';
import type { GatewayConfig } from '../config.js';

/**
 * `/metrics` with the health routes on GATEWAY_METRICS_PORT. The public port does not serve
 * `/metrics`: cache sizes, throttled clients and error rates are the operator's, not the internet's.
 * Up from start-up until the very end of shutdown, so the last scrape still sees the drain.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly server: FastifyInstance = Fastify();

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(ReadinessRegistry) readiness: ReadinessRegistry,
  ) {
    this.server.get('/metrics', async (_request, reply) => reply.type(register.contentType).send(await register.metrics()));
    this.server.get('/health/live', async () => ({ status: 'ok' }));
    this.server.get('/health/ready', async (_request, reply) => {
      const { status, body } = await readinessAnswer(readiness);
      return reply.code(status).send(body);
    });
  }

  /** The port actually bound (GATEWAY_METRICS_PORT, or the one the system chose for 0). */
  get port(): number {
    return (this.server.server.address() as AddressInfo).port;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.server.listen({ port: this.config.metricsPort, host: '0.0.0.0' });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server.close();
  }
}
