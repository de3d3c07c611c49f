import { Global, Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { ReadinessRegistry } from './health.js';
import { LOGGER } from './tokens.js';
import type { Logger } from './logger.js';
import { NatsBus } from './nats-bus.js';
import type { NatsSecurity } from './nats-credentials.js';

export interface NatsModuleOptions {
  url: string;
  subjectPrefix?: string;
  name: string;
  /** Credentials and TLS from the service's configuration (BaseConfig.nats). */
  security?: NatsSecurity;
  /**
   * Whether the service is out of rotation (`/health/ready` 503) while NATS is unreachable;
   * default true. The gateway says false: see its app module.
   */
  readinessRequired?: boolean;
}

@Global()
@Module({})
export class NatsModule implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(@Inject(NatsBus) private readonly bus: NatsBus) {}

  static forRoot(options: NatsModuleOptions): DynamicModule {
    return {
      module: NatsModule,
      providers: [
        {
          provide: NatsBus,
          inject: [LOGGER, ReadinessRegistry],
          useFactory: async (logger: Logger, readiness: ReadinessRegistry) => {
            const { readinessRequired = true, ...connection } = options;
            const bus = await NatsBus.connect({ ...connection, logger });
            readiness.register('nats', () => bus.connected, { required: readinessRequired });
            return bus;
          },
        },
      ],
      exports: [NatsBus],
    };
  }

  /**
   * Before any module closes its resources (the database pool, Redis): stop taking requests
   * and let the handlers already running answer.
   */
  async beforeApplicationShutdown() {
    await this.bus.quiesce();
  }

  /** Then drain and close the connection: what is still buffered is flushed first. */
  async onApplicationShutdown() {
    await this.bus.close();
  }
}
