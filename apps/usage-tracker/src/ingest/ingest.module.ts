import { Inject, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { CONFIG, LOGGER, NatsBus, type Logger } from '@app/common';
import type { UsageTrackerConfig } from '../config.js';
import { UsageConsumer } from './usage-consumer.js';
import { UsageIngestRepository } from './usage-ingest.repository.js';

/** Consumes `key.used` into the usage tables from start-up until shutdown. */
@Module({
  providers: [
    UsageIngestRepository,
    {
      provide: UsageConsumer,
      inject: [NatsBus, UsageIngestRepository, CONFIG, LOGGER],
      useFactory: (bus: NatsBus, repository: UsageIngestRepository, config: UsageTrackerConfig, logger: Logger) =>
        new UsageConsumer(bus, repository, config.ingest, logger),
    },
  ],
  exports: [UsageConsumer],
})
export class IngestModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(UsageConsumer) private readonly consumer: UsageConsumer) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.consumer.start();
  }

  /** Before the NATS connection drains: received messages are still written and acked. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }
}
