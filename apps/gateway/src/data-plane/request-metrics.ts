import { Counter, Histogram, register, type Registry } from 'prom-client';
import { registeredMetric } from '@app/common';
import type { ChatbotIdSource } from './route-table.js';

/**
 * What a data-plane request was, for metrics: a chatbot route (id in the path or query), the chat
 * route (id in the JSON body), an account route, or refused before any route matched.
 */
export type RouteClass = 'chatbot' | 'chat' | 'account' | 'unrouted';

export function routeClassOf(source: ChatbotIdSource): RouteClass {
  if (source === null) return 'account';
  return source.from === 'body' ? 'chat' : 'chatbot';
}

/** Seconds, from 0.25 ms: the gateway's own share is sub-millisecond on a cache hit. */
const BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

type CounterChild = ReturnType<Counter<'route' | 'status'>['labels']>;
type HistogramChild = ReturnType<Histogram<'route'>['labels']>;

/**
 * Requests by route class and status, and the time to the answer's head (the upstream's status
 * line and headers relayed, or the gateway's refusal). Children are bound once per label set:
 * prom-client otherwise hashes the labels on every call, and this runs on every request.
 */
export class RequestMetrics {
  private readonly requests: Counter<'route' | 'status'>;
  private readonly duration: Histogram<'route'>;
  private readonly counters = new Map<RouteClass, Map<number, CounterChild>>();
  private readonly timers = new Map<RouteClass, HistogramChild>();

  constructor(registry: Registry = register) {
    this.requests = registeredMetric(
      'gateway_data_plane_requests_total',
      () =>
        new Counter({
          name: 'gateway_data_plane_requests_total',
          help: 'Data-plane requests by route class (chatbot, chat, account, unrouted) and answer status (499: the client left first)',
          labelNames: ['route', 'status'] as const,
          registers: [registry],
        }),
      registry,
    );
    this.duration = registeredMetric(
      'gateway_data_plane_request_duration_seconds',
      () =>
        new Histogram({
          name: 'gateway_data_plane_request_duration_seconds',
          help: "Data-plane requests: time from arrival to the answer's head, by route class",
          labelNames: ['route'] as const,
          buckets: BUCKETS,
          registers: [registry],
        }),
      registry,
    );
  }

  /** `startedAt` from `performance.now()` when the request arrived. */
  record(route: RouteClass, status: number, startedAt: number): void {
    let byStatus = this.counters.get(route);
    if (byStatus === undefined) this.counters.set(route, (byStatus = new Map<number, CounterChild>()));
    let counter = byStatus.get(status);
    if (counter === undefined) byStatus.set(status, (counter = this.requests.labels(route, String(status))));
    counter.inc();
    let timer = this.timers.get(route);
    if (timer === undefined) this.timers.set(route, (timer = this.duration.labels(route)));
    timer.observe((performance.now() - startedAt) / 1000);
  }
}
