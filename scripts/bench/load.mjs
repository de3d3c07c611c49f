// The load generator: autocannon, with every response time kept (autocannon's own histogram
// rounds to whole milliseconds; the sub-millisecond goals need the raw sample).
import autocannon from 'autocannon';
import { summarize } from './stats.mjs';

/**
 * Runs one load round. `keys` (plaintext keys, optional) are used in turn, one per request.
 * `overallRate` switches to a fixed request rate (open-ish loop); `amount` stops after that many.
 */
export async function load({ url, connections = 50, duration, amount, overallRate, method = 'GET', headers = {}, body, keys }) {
  const latencies = [];
  const statuses = {};
  let next = 0;
  const requests = keys
    ? [
        {
          setupRequest: (request) => {
            const key = keys[next++ % keys.length];
            return { ...request, headers: { ...request.headers, authorization: `Bearer ${key}` } };
          },
        },
      ]
    : undefined;
  const started = performance.now();
  const instance = autocannon({
    url,
    connections,
    pipelining: 1,
    method,
    headers,
    body,
    requests,
    ...(duration !== undefined ? { duration } : {}),
    ...(amount !== undefined ? { amount } : {}),
    ...(overallRate !== undefined ? { overallRate } : {}),
    timeout: 10,
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    latencies.push(responseTime);
  });
  const result = await instance;
  const seconds = (performance.now() - started) / 1000;
  const ok = statuses[200] ?? 0;
  return {
    seconds,
    responses: latencies.length,
    ok,
    rps: ok / (result.duration || seconds),
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    latency: summarize(latencies),
  };
}
