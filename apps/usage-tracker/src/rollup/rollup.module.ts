import { Inject, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { CONFIG, LOGGER, type Logger } from '@app/common';
import type { UsageTrackerConfig } from '../config.js';
import { UsageMaintenance } from './usage-maintenance.js';
import { UsageRollupRepository } from './usage-rollup.repository.js';

/** Rollup and retention of the usage tables, on a schedule, one replica at a time. */
@Module({
  providers: [
    UsageRollupRepository,
    {
      provide: UsageMaintenance,
      inject: [UsageRollupRepository, CONFIG, LOGGER],
      useFactory: (repository: UsageRollupRepository, config: UsageTrackerConfig, logger: Logger) =>
        new UsageMaintenance(repository, config.maintenance, logger),
    },
  ],
  exports: [UsageMaintenance],
})
export class RollupModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(UsageMaintenance) private readonly maintenance: UsageMaintenance) {}

  onApplicationBootstrap(): void {
    this.maintenance.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.maintenance.stop();
  }
}
