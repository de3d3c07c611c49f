import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { ReadinessRegistry } from './health.js';
import { LOGGER } from './tokens.js';
import type { Logger } from './logger.js';
import { NatsBus } from './nats-bus.js';

export interface NatsModuleOptions {
  url: string;
  subjectPrefix?: string;
  name: string;
  /**
   * Whether the service is out of rotation (`/health/ready` 503) while NATS is unreachable;
   * default true. The gateway says false: see its app module.
   */
  readinessRequired?: boolean;
}

@Global()
@Module({})
export class NatsModule implements OnApplicationShutdown {
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

  /** Drains: in-flight requests are answered and subscriptions finish before the connection closes. */
  async onApplicationShutdown() {
    await this.bus.close();
  }
}
