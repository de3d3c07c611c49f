import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { CONFIG, ensureUsageStream, LOGGER, NatsBus, usageStreamNames, type Logger } from '@app/common';
import type { GatewayConfig } from '../config.js';
import { DEFAULT_USAGE_PUBLISHER_OPTIONS, UsagePublisher, type UsagePublisherOptions } from './usage-publisher.js';

const STREAM_RETRY_MS = 5_000;

/**
 * Gives the gateway a `UsagePublisher` (inject it by class). The `key.used` stream is
 * created or updated at start; if JetStream is not reachable yet that is retried in the
 * background, and uses wait in the bounded queue meanwhile.
 */
@Module({})
export class UsageModule implements OnModuleInit, BeforeApplicationShutdown {
  private streamRetry: NodeJS.Timeout | undefined;

  constructor(
    @Inject(UsagePublisher) private readonly publisher: UsagePublisher,
    @Inject(NatsBus) private readonly bus: NatsBus,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  static forRoot(options: Partial<UsagePublisherOptions> = {}): DynamicModule {
    return {
      module: UsageModule,
      providers: [
        {
          provide: UsagePublisher,
          inject: [NatsBus, LOGGER],
          useFactory: (bus: NatsBus, logger: Logger) =>
            new UsagePublisher(
              {
                jetStream: jetstream(bus.connection),
                subject: bus.subject('keyUsedBatch'),
                isConnected: () => bus.connected,
                logger,
              },
              { ...DEFAULT_USAGE_PUBLISHER_OPTIONS, ...options },
            ),
        },
      ],
      exports: [UsagePublisher],
    };
  }

  async onModuleInit(): Promise<void> {
    await this.declareStream();
    this.publisher.start();
  }

  /** Before NatsModule drains the connection: pending uses still get published. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.streamRetry) clearTimeout(this.streamRetry);
    await this.publisher.stop();
  }

  private async declareStream(): Promise<void> {
    try {
      const jsm = await jetstreamManager(this.bus.connection);
      await ensureUsageStream(jsm, usageStreamNames(this.bus), this.config.usageStreamReplicas);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not declare the key.used stream yet; retrying');
      this.streamRetry = setTimeout(() => void this.declareStream(), STREAM_RETRY_MS);
      this.streamRetry.unref();
    }
  }
}
