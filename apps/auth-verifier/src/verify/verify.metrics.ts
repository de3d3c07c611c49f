import { Counter, Histogram, register as globalRegistry, type Registry } from 'prom-client';
import { registeredMetric } from '@app/common';
import type { VerifyOutcome } from '@app/contracts';
import type { EntryKind } from '../invalidation/recent-changes.js';
import type { CacheRead } from '../cache/cache-read.js';

/** Prometheus metrics of the verifier; one set per registry, however many apps a process starts. */
export class VerifyMetrics {
  private readonly verifications: Counter<'outcome'>;
  private readonly cacheReads: Counter<'entry' | 'result'>;
  private readonly latency: Histogram<'outcome'>;

  constructor(registry: Registry = globalRegistry) {
    this.verifications = registeredMetric(
      'auth_verifier_verifications_total',
      () =>
        new Counter({
          name: 'auth_verifier_verifications_total',
          help: 'auth.verify requests answered, by outcome',
          labelNames: ['outcome'],
          registers: [registry],
        }),
      registry,
    );
    this.cacheReads = registeredMetric(
      'auth_verifier_cache_reads_total',
      () =>
        new Counter({
          name: 'auth_verifier_cache_reads_total',
          help: 'Redis cache reads by entry kind and result (hit, miss, unavailable)',
          labelNames: ['entry', 'result'],
          registers: [registry],
        }),
      registry,
    );
    this.latency = registeredMetric(
      'auth_verifier_verify_duration_seconds',
      () =>
        new Histogram({
          name: 'auth_verifier_verify_duration_seconds',
          help: 'Time to answer auth.verify, by outcome',
          labelNames: ['outcome'],
          buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
          registers: [registry],
        }),
      registry,
    );
  }

  verified(outcome: VerifyOutcome, seconds: number): void {
    this.verifications.inc({ outcome });
    this.latency.observe({ outcome }, seconds);
  }

  cacheRead(entry: EntryKind, read: CacheRead<unknown>): void {
    this.cacheReads.inc({ entry, result: read.state });
  }
}
