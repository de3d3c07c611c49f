import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { QueueGroups } from '@app/contracts';
import { NatsBus } from '@app/common';
import { UsageQueryRepository } from './usage-query.repository.js';
import { UsageQueryService } from './usage-query.service.js';

/** Serves the internal usage subjects in the tracker's queue group: one replica answers each request. */
@Module({ providers: [UsageQueryRepository, UsageQueryService], exports: [UsageQueryService] })
export class QueryModule implements OnModuleInit {
  constructor(
    @Inject(NatsBus) private readonly bus: NatsBus,
    @Inject(UsageQueryService) private readonly usage: UsageQueryService,
  ) {}

  onModuleInit(): void {
    this.bus.serve('usageQuery', QueueGroups.usageTracker, (query) => this.usage.series(query));
    this.bus.serve('usageLastUsed', QueueGroups.usageTracker, (query) => this.usage.lastUsed(query));
  }
}
