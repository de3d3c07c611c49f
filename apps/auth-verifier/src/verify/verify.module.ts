import { Module } from '@nestjs/common';
import { CONFIG, LOGGER, NatsBus, type Logger, type RedisClient } from '@app/common';
import type { AuthVerifierConfig } from '../config.js';
import { REDIS } from '../cache/redis.module.js';
import { AuthCacheRepository } from '../cache/auth-cache.repository.js';
import { KeyManagementClient } from '../key-management/key-management.client.js';
import { RecentChanges } from '../invalidation/recent-changes.js';
import { VerifyHandler } from './verify.handler.js';
import { VerifyMetrics } from './verify.metrics.js';
import { VerifyService } from './verify.service.js';

/**
 * Classes here take plain constructor arguments (their unit tests build them directly);
 * the factories below are the only place that knows how they are wired.
 */
@Module({
  providers: [
    { provide: VerifyMetrics, useFactory: () => new VerifyMetrics() },
    {
      provide: RecentChanges,
      inject: [CONFIG],
      useFactory: (config: AuthVerifierConfig) =>
        new RecentChanges({
          // Twice the positive TTL: outlives every entry cached before the change, and any lookup in flight.
          rememberMs: 2 * config.cache.ttlMs + config.lookupTimeoutMs,
          planOverrideMs: config.cache.ttlMs + config.lookupTimeoutMs,
          maxEntries: config.memoryMaxEntries,
        }),
    },
    {
      provide: AuthCacheRepository,
      inject: [REDIS, CONFIG, LOGGER],
      useFactory: (redis: RedisClient, config: AuthVerifierConfig, logger: Logger) =>
        new AuthCacheRepository(
          redis,
          { ...config.cache, keyPrefix: config.redis.keyPrefix, maxPendingInvalidations: config.memoryMaxEntries },
          logger,
        ),
    },
    {
      provide: KeyManagementClient,
      inject: [NatsBus, CONFIG, LOGGER],
      useFactory: (bus: NatsBus, config: AuthVerifierConfig, logger: Logger) =>
        new KeyManagementClient(bus, config.lookupTimeoutMs, logger),
    },
    {
      provide: VerifyService,
      inject: [AuthCacheRepository, KeyManagementClient, RecentChanges, VerifyMetrics],
      useFactory: (cache: AuthCacheRepository, km: KeyManagementClient, changes: RecentChanges, metrics: VerifyMetrics) =>
        new VerifyService(cache, km, changes, metrics),
    },
    {
      provide: VerifyHandler,
      inject: [NatsBus, VerifyService, VerifyMetrics],
      useFactory: (bus: NatsBus, service: VerifyService, metrics: VerifyMetrics) => new VerifyHandler(bus, service, metrics),
    },
  ],
  exports: [AuthCacheRepository, RecentChanges],
})
export class VerifyModule {}
