import { Counter, register } from 'prom-client';

const NAME = 'key_events_missed_total';

/** Each count is one "stop trusting the cache" on this replica: a few at a NATS restart, never a steady rate. */
export const keyEventsMissed =
  (register.getSingleMetric(NAME) as Counter<'reason'> | undefined) ??
  new Counter({
    name: NAME,
    help: 'Times this replica may have missed key events and dropped what it had cached, by reason (reconnect, gap, slow_consumer)',
    labelNames: ['reason'] as const,
  });
