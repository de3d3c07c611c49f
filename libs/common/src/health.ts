import { Controller, Get, Global, Header, HttpCode, Injectable, Module, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { collectDefaultMetrics, register } from 'prom-client';

type Check = () => unknown;

export interface ReadinessCheckOptions {
  /**
   * false: the dependency is reported (`checks`, status `degraded`) but does not take the
   * service out of rotation, because the service still answers usefully without it (the
   * gateway serves cached keys without NATS; the verifier asks key-management without Redis).
   */
  required?: boolean;
}

export interface Readiness {
  ready: boolean;
  status: 'ok' | 'degraded' | 'unavailable';
  checks: Record<string, 'up' | 'down'>;
}

/** Each module registers what it needs to be ready (a Postgres, Redis or NATS ping). */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, { check: Check; required: boolean }>();

  register(name: string, check: Check, options: ReadinessCheckOptions = {}): void {
    this.checks.set(name, { check, required: options.required ?? true });
  }

  async evaluate(): Promise<Readiness> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, { check, required }]) => {
        try {
          const outcome = await withTimeout(Promise.resolve(check()), 1000);
          return [name, outcome === false ? 'down' : 'up', required] as const;
        } catch {
          return [name, 'down', required] as const;
        }
      }),
    );
    const ready = entries.every(([, state, required]) => state === 'up' || !required);
    const degraded = entries.some(([, state]) => state === 'down');
    return {
      ready,
      status: !ready ? 'unavailable' : degraded ? 'degraded' : 'ok',
      checks: Object.fromEntries(entries.map(([name, state]) => [name, state])),
    };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessRegistry) {}

  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() reply: FastifyReply) {
    const { status, body } = await readinessAnswer(this.readiness);
    await reply.code(status).send(body);
  }
}

@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Content-Type', register.contentType)
  metrics() {
    return register.metrics();
  }
}

let defaultMetricsStarted = false;

function startDefaultMetrics(): void {
  if (defaultMetricsStarted) return;
  collectDefaultMetrics();
  defaultMetricsStarted = true;
}

/** What `/health/live` and `/health/ready` answer, for a port Nest does not serve (the gateway's metrics port). */
export async function readinessAnswer(readiness: ReadinessRegistry): Promise<{ status: number; body: Omit<Readiness, 'ready'> }> {
  const { ready, status, checks } = await readiness.evaluate();
  return { status: ready ? 200 : 503, body: { status, checks } };
}

@Global()
@Module({ providers: [ReadinessRegistry], exports: [ReadinessRegistry] })
class ReadinessModule {}

/** `/health/live`, `/health/ready` and `/metrics` on the service's own HTTP port. */
@Module({ imports: [ReadinessModule], controllers: [HealthController, MetricsController] })
export class HealthModule {
  constructor() {
    startDefaultMetrics();
  }
}

/**
 * `/health/live` and `/health/ready` only, for a service whose HTTP port is public (the gateway):
 * it serves `/metrics` on a port of its own, which the internet never reaches.
 */
@Module({ imports: [ReadinessModule], controllers: [HealthController] })
export class HealthRoutesModule {
  constructor() {
    startDefaultMetrics();
  }
}
