import { Counter, Gauge, register } from 'prom-client';

function singleton<T>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

export const hoursRolled = singleton(
  'usage_tracker_rollup_hours_total',
  () => new Counter({ name: 'usage_tracker_rollup_hours_total', help: 'Hours of minute rows rolled into hour and day rows' }),
);

export const lateFolded = singleton(
  'usage_tracker_rollup_late_folded_total',
  () =>
    new Counter({
      name: 'usage_tracker_rollup_late_folded_total',
      help: 'Late writes (to hours already rolled) added to hour and day rows',
    }),
);

export const partitionsDropped = singleton(
  'usage_tracker_partitions_dropped_total',
  () => new Counter({ name: 'usage_tracker_partitions_dropped_total', help: 'Usage partitions dropped by retention' }),
);

export const maintenanceFailures = singleton(
  'usage_tracker_maintenance_failures_total',
  () =>
    new Counter({
      name: 'usage_tracker_maintenance_failures_total',
      help: 'Usage storage maintenance runs that failed (retried on the next run)',
    }),
);

export const rolledTo = singleton(
  'usage_tracker_rollup_rolled_to_seconds',
  () =>
    new Gauge({
      name: 'usage_tracker_rollup_rolled_to_seconds',
      help: 'Unix time up to which minute rows are rolled into hours (lags now by an hour and a few minutes when healthy)',
    }),
);
