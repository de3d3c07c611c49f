import { Counter } from 'prom-client';
import { registeredMetric } from '@app/common';

export const eventsPublished = registeredMetric(
  'key_management_events_published_total',
  () =>
    new Counter({
      name: 'key_management_events_published_total',
      help: 'Change events handed to NATS after a commit, by event (keyRevoked, planChanged, ...)',
      labelNames: ['event'] as const,
    }),
);

/** A failed publish leaves replicas on their caches until TTLs expire: worth an alert. */
export const eventPublishFailures = registeredMetric(
  'key_management_event_publish_failures_total',
  () =>
    new Counter({
      name: 'key_management_event_publish_failures_total',
      help: 'Change events NATS refused to take (connection closed or draining), by event',
      labelNames: ['event'] as const,
    }),
);

export const keysRevoked = registeredMetric(
  'key_management_keys_revoked_total',
  () =>
    new Counter({
      name: 'key_management_keys_revoked_total',
      help: 'Keys revoked (committed), by reason: api (a DELETE of the key), roll (the old key of a roll, at once), chatbot_deleted (with its chatbot) or leaked (a leak report)',
      labelNames: ['reason'] as const,
    }),
);
