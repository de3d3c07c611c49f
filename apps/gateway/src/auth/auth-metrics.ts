import { Counter, Gauge, Histogram } from 'prom-client';
import { registeredMetric } from '@app/common';

export const authCacheLookups = registeredMetric(
  'gateway_auth_cache_lookups_total',
  () =>
    new Counter({
      name: 'gateway_auth_cache_lookups_total',
      help: 'Key verifications by cache outcome: hit, miss (asked auth.verify) or coalesced (joined a pending ask)',
      labelNames: ['result'] as const,
    }),
);

export const verifyDuration = registeredMetric(
  'gateway_auth_verify_duration_seconds',
  () =>
    new Histogram({
      name: 'gateway_auth_verify_duration_seconds',
      help: 'Round trip of auth.verify requests, by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    }),
);

/**
 * The whole of authentication on a cache hit (hash the key, look it up, decide), measured in the
 * data plane: what authentication adds to a request whose key is cached. Microsecond buckets.
 */
export const cacheHitDuration = registeredMetric(
  'gateway_auth_cache_hit_duration_seconds',
  () =>
    new Histogram({
      name: 'gateway_auth_cache_hit_duration_seconds',
      help: 'Time to authenticate a request from the in-memory cache (hash, lookup, decision)',
      buckets: [0.000_001, 0.000_002_5, 0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5],
    }),
);

export const authThrottled = registeredMetric(
  'gateway_auth_throttled_total',
  () =>
    new Counter({
      name: 'gateway_auth_throttled_total',
      help: 'Requests refused 429: too many invalid keys from the client, or too many refusals outside the reach of the key',
    }),
);

/** Something holding entries in memory; its sizes are read when /metrics is scraped, never on a request. */
export type SizedMemory = () => Record<string, number>;
const memories = new Set<SizedMemory>();

/** Registers a source of the `gateway_auth_memory_entries` gauge; call the returned function to remove it. */
export function reportMemory(sizes: SizedMemory): () => void {
  memories.add(sizes);
  return () => memories.delete(sizes);
}

export const memoryEntries = registeredMetric(
  'gateway_auth_memory_entries',
  () =>
    new Gauge({
      name: 'gateway_auth_memory_entries',
      help: 'Entries held in memory by key authentication, by structure (each bounded: see AUTH_CACHE_MAX_ENTRIES)',
      labelNames: ['structure'] as const,
      collect() {
        const totals: Record<string, number> = {};
        for (const sizes of memories) for (const [name, size] of Object.entries(sizes())) totals[name] = (totals[name] ?? 0) + size;
        this.reset();
        for (const [name, size] of Object.entries(totals)) this.set({ structure: name }, size);
      },
    }),
);
