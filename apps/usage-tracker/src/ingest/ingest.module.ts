import { Module } from '@nestjs/common';
import { CONFIG, LOGGER, NatsBus, type Logger } from '@app/common';
import type { UsageTrackerConfig } from '../config.js';
import { IngestHandlers } from './ingest.handlers.js';
import { UsageConsumer } from './usage-consumer.js';
import { UsageIngestRepository } from './usage-ingest.repository.js';

/** Consumes `key.used` into the usage tables (IngestHandlers: from start-up until shutdown). */
@Module({
  providers: [
    UsageIngestRepository,
    {
      provide: UsageConsumer,
      inject: [NatsBus, UsageIngestRepository, CONFIG, LOGGER],
      useFactory: (bus: NatsBus, repository: UsageIngestRepository, config: UsageTrackerConfig, logger: Logger) =>
        new UsageConsumer(bus, repository, config.ingest, logger),
    },
    IngestHandlers,
  ],
  exports: [UsageConsumer],
})
export class IngestModule {}
