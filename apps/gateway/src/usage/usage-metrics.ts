import { Counter, Gauge } from 'prom-client';
import { registeredMetric } from '@app/common';

export const usesRecorded = registeredMetric(
  'gateway_usage_uses_recorded_total',
  () => new Counter({ name: 'gateway_usage_uses_recorded_total', help: 'Key uses handed to the usage publisher' }),
);

export const usesPublished = registeredMetric(
  'gateway_usage_uses_published_total',
  () => new Counter({ name: 'gateway_usage_uses_published_total', help: 'Key uses stored in the usage stream (batch publish acked)' }),
);

/** Every use that will never reach the stream is counted here (and logged): nothing is dropped silently. */
export const usesUndelivered = registeredMetric(
  'gateway_usage_uses_undelivered_total',
  () =>
    new Counter({
      name: 'gateway_usage_uses_undelivered_total',
      help: 'Key uses given up on: queue_full (pending bound reached while NATS was slow or down) or shutdown',
      labelNames: ['reason'] as const,
    }),
);

export const batchesPublished = registeredMetric(
  'gateway_usage_batches_published_total',
  () =>
    new Counter({
      name: 'gateway_usage_batches_published_total',
      help: 'key.used.batch messages stored in the usage stream (publish acked)',
    }),
);

export const publishFailures = registeredMetric(
  'gateway_usage_publish_failures_total',
  () =>
    new Counter({
      name: 'gateway_usage_publish_failures_total',
      help: 'key.used.batch publish attempts that failed and were queued for retry',
    }),
);

export const pendingBatches = registeredMetric(
  'gateway_usage_pending_batches',
  () =>
    new Gauge({ name: 'gateway_usage_pending_batches', help: 'key.used.batch messages sealed and not yet acked (queued or in flight)' }),
);

/** What the publisher's memory bound limits. */
export const pendingEntries = registeredMetric(
  'gateway_usage_pending_entries',
  () =>
    new Gauge({
      name: 'gateway_usage_pending_entries',
      help: 'Counts of one key and minute held in memory (open, queued or in flight), bounded by the publisher',
    }),
);

export const pendingUses = registeredMetric(
  'gateway_usage_pending_uses',
  () => new Gauge({ name: 'gateway_usage_pending_uses', help: 'Key uses held in memory, not yet acked by the stream' }),
);
