import { Counter, Gauge, Histogram } from 'prom-client';
import { registeredMetric } from '@app/common';

export const messagesConsumed = registeredMetric(
  'usage_tracker_messages_consumed_total',
  () =>
    new Counter({ name: 'usage_tracker_messages_consumed_total', help: 'key.used and key.used.batch messages received from the stream' }),
);

export const messagesApplied = registeredMetric(
  'usage_tracker_messages_applied_total',
  () => new Counter({ name: 'usage_tracker_messages_applied_total', help: 'key.used messages counted (committed, then acked)' }),
);

export const usesApplied = registeredMetric(
  'usage_tracker_uses_applied_total',
  () => new Counter({ name: 'usage_tracker_uses_applied_total', help: 'Key uses added to the usage tables' }),
);

export const duplicatesSkipped = registeredMetric(
  'usage_tracker_duplicates_skipped_total',
  () =>
    new Counter({
      name: 'usage_tracker_duplicates_skipped_total',
      help: 'Redelivered key.used messages already counted, acked without counting',
    }),
);

export const messagesRejected = registeredMetric(
  'usage_tracker_messages_rejected_total',
  () =>
    new Counter({
      name: 'usage_tracker_messages_rejected_total',
      help: 'Malformed key.used messages and key.used.batch envelopes (not JSON, not the shape, past the bounds), logged and terminated',
    }),
);

export const batchEntriesRejected = registeredMetric(
  'usage_tracker_batch_entries_rejected_total',
  () =>
    new Counter({
      name: 'usage_tracker_batch_entries_rejected_total',
      help: 'Malformed entries of key.used.batch messages, logged and skipped (the valid entries of the same message are counted)',
    }),
);

export const messagesDeferred = registeredMetric(
  'usage_tracker_messages_deferred_total',
  () =>
    new Counter({
      name: 'usage_tracker_messages_deferred_total',
      help: 'Messages handed back unread (redelivered later) because a full bound of counts already waited for the database',
    }),
);

export const redeliveriesWhileWaiting = registeredMetric(
  'usage_tracker_redelivered_while_waiting_total',
  () =>
    new Counter({
      name: 'usage_tracker_redelivered_while_waiting_total',
      help: 'Redelivered key.used messages whose first copy still waited for a batch (the database is slower than the ack wait)',
    }),
);

export const batchFailures = registeredMetric(
  'usage_tracker_batch_failures_total',
  () =>
    new Counter({ name: 'usage_tracker_batch_failures_total', help: 'Batches whose transaction failed; their messages are redelivered' }),
);

export const batchDuration = registeredMetric(
  'usage_tracker_batch_duration_seconds',
  () =>
    new Histogram({
      name: 'usage_tracker_batch_duration_seconds',
      help: 'Time to commit and ack one batch (messages are validated as they arrive)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    }),
);

export const consumerLag = registeredMetric(
  'usage_tracker_consumer_lag_messages',
  () =>
    new Gauge({
      name: 'usage_tracker_consumer_lag_messages',
      help: 'key.used messages not yet applied: waiting in the stream plus delivered and unacked',
    }),
);
