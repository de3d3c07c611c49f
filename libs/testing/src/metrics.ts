import { eventually, type EventuallyOptions } from './polling.js';

/** One counter series of a service's `/metrics`: its name, and the labels a sample must carry (others may follow). */
export interface Series {
  name: string;
  labels?: Record<string, string>;
}

/** Lookups the gateway had to ask `auth.verify` for: one moves on every request its verify cache cannot answer. */
export const GATEWAY_VERIFY_MISSES: Series = { name: 'gateway_auth_cache_lookups_total', labels: { result: 'miss' } };
/** Redis reads of the auth-verifier that found nothing (a key, plan or chatbot it had to ask key-management for). */
export const VERIFIER_CACHE_MISSES: Series = { name: 'auth_verifier_cache_reads_total', labels: { result: 'miss' } };

/** The sum of the samples of `series` at `metricsUrl` (0 while the service has recorded none). */
export async function seriesTotal(metricsUrl: string, series: Series): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  let total = 0;
  for (const [, name, labelText = '', value] of text.matchAll(/^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/gm)) {
    if (name !== series.name) continue;
    const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, label, text]) => [label, text]));
    if (Object.entries(series.labels ?? {}).every(([label, wanted]) => labels[label] === wanted)) total += Number(value);
  }
  return total;
}

/**
 * Repeats `use` until one is answered without moving `misses` at `metricsUrl`, i.e. from the
 * service's cache alone, and resolves with that answer. A reply about a key changed moments ago
 * is used but not cached (the services' settle windows): a test that relies on a cached key
 * waits for that, rather than for the window's length.
 */
export async function answeredFromCache<T>(
  cache: { metricsUrl: string; misses: Series },
  use: () => Promise<T>,
  options: EventuallyOptions = {},
): Promise<T> {
  const misses = () => seriesTotal(cache.metricsUrl, cache.misses);
  const probe = await eventually(
    async () => {
      const before = await misses();
      const answer = await use();
      return { answer, missed: (await misses()) - before };
    },
    ({ missed }) => missed === 0,
    { intervalMs: 100, what: `a use answered from the cache behind ${cache.metricsUrl}`, ...options },
  );
  return probe.answer;
}
