// The load generator: autocannon, with every response time kept (autocannon's own histogram
// rounds to whole milliseconds; the sub-millisecond goals need the raw sample).
import autocannon from 'autocannon';
import { summarize } from './stats.mjs';

/**
 * Runs one load round. `targets` ([{ path, key }], optional) are used in turn, one per request.
 * `overallRate` switches to a fixed request rate (open-ish loop); `amount` stops after that many.
 */
export async function load({
  url,
  connections = 50,
  duration,
  amount,
  overallRate,
  method = 'GET',
  headers = {},
  body,
  targets,
  maxSeconds,
}) {
  const latencies = [];
  const statuses = {};
  let next = 0;
  const requests = targets
    ? [
        {
          setupRequest: (request) => {
            const target = targets[next++ % targets.length];
            return { ...request, path: target.path, headers: { ...request.headers, authorization: `Bearer ${target.key}` } };
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
  // With `amount`, a time limit as well: the caller learns how far it got from `responses`.
  const limit = maxSeconds ? setTimeout(() => instance.stop(), maxSeconds * 1000) : undefined;
  const result = await instance;
  clearTimeout(limit);
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
