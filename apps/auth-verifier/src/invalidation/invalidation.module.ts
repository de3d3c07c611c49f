import { Module } from '@nestjs/common';
import { NatsBus } from '@app/common';
import { AuthCacheRepository } from '../cache/auth-cache.repository.js';
import { VerifyModule } from '../verify/verify.module.js';
import { InvalidationListener } from './invalidation.listener.js';
import { InvalidationService } from './invalidation.service.js';
import { RecentChanges } from './recent-changes.js';

@Module({
  imports: [VerifyModule],
  providers: [
    {
      provide: InvalidationService,
      inject: [RecentChanges, AuthCacheRepository],
      useFactory: (changes: RecentChanges, cache: AuthCacheRepository) => new InvalidationService(changes, cache),
    },
    {
      provide: InvalidationListener,
      inject: [NatsBus, InvalidationService],
      useFactory: (bus: NatsBus, invalidation: InvalidationService) => new InvalidationListener(bus, invalidation),
    },
  ],
})
export class InvalidationModule {}
