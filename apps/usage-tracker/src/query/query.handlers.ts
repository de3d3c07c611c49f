import { Inject, Injectable } from '@nestjs/common';
import { QueueGroups } from '@app/contracts';
import { BusHandlers, NatsBus } from '@app/common';
import { UsageQueryService } from './usage-query.service.js';

/** Serves the internal usage subjects in the tracker's queue group: one replica answers each request. */
@Injectable()
export class QueryHandlers extends BusHandlers {
  constructor(
    @Inject(NatsBus) private readonly bus: NatsBus,
    @Inject(UsageQueryService) private readonly usage: UsageQueryService,
  ) {
    super();
  }

  protected subscribe() {
    const queue = QueueGroups.usageTracker;
    return [
      this.bus.serve('usageQuery', queue, (query) => this.usage.series(query)),
      this.bus.serve('usageLastUsed', queue, (query) => this.usage.lastUsed(query)),
    ];
  }
}
