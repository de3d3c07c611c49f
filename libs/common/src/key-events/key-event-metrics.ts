import { Counter } from 'prom-client';
import { registeredMetric } from '../metrics.js';

const NAME = 'key_events_missed_total';

/** Each count is one "stop trusting the cache" on this replica: a few at a NATS restart, never a steady rate. */
export const keyEventsMissed = registeredMetric(
  NAME,
  () =>
    new Counter({
      name: NAME,
      help: 'Times this replica may have missed key events and dropped what it had cached, by reason (reconnect, gap, slow_consumer)',
      labelNames: ['reason'] as const,
    }),
);
