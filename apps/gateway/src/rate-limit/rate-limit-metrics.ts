import { Counter, Gauge } from 'prom-client';
import { registeredMetric } from '@app/common';

export const rateLimitRefusals = registeredMetric(
  'gateway_rate_limit_refusals_total',
  () => new Counter({ name: 'gateway_rate_limit_refusals_total', help: "Requests refused (429) by their key's own rate limit" }),
);

export const rateLimitShared = registeredMetric(
  'gateway_rate_limit_shared',
  () =>
    new Gauge({
      name: 'gateway_rate_limit_shared',
      help: '1 while rate-limit counts are shared through Redis; 0 while each replica counts on its own',
    }),
);
