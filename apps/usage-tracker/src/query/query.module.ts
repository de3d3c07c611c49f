import { Module } from '@nestjs/common';
import { QueryHandlers } from './query.handlers.js';
import { UsageQueryRepository } from './usage-query.repository.js';
import { UsageQueryService } from './usage-query.service.js';

@Module({ providers: [UsageQueryRepository, UsageQueryService, QueryHandlers], exports: [UsageQueryService] })
export class QueryModule {}
