// Scenario 1 and 2: gateway throughput with a warm chatbot key against the bare baseline proxy,
// then the latency authentication adds at 70 % of the gateway's maximum, both in alternating rounds.
import { load } from './load.mjs';
import { histogramPercentiles, median } from './stats.mjs';
import { scrape } from './system.mjs';

function medians(rounds) {
  return {
    rps: median(rounds.map((r) => r.rps)),
    p50: median(rounds.map((r) => r.latency.p50)),
    p99: median(rounds.map((r) => r.latency.p99)),
    rounds,
  };
}

function checkAllOk(result, what) {
  const bad = result.responses - result.ok;
  if (bad > 0 || result.errors > 0)
    throw new Error(`${what}: ${bad} non-200 answers, ${result.errors} errors: ${JSON.stringify(result.statuses)}`);
}

/** Alternates baseline and gateway rounds (which goes first alternates too) and returns both medians. */
async function alternate({ rounds, run, log, label }) {
  const baseline = [];
  const ours = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['baseline', 'ours'] : ['ours', 'baseline'];
    for (const side of order) {
      const result = await run(side);
      checkAllOk(result, `${label} ${side} round ${round + 1}`);
      (side === 'baseline' ? baseline : ours).push(result);
      log(
        `  ${label} round ${round + 1} ${side.padEnd(8)} ${Math.round(result.rps)} req/s  p50 ${result.latency.p50.toFixed(3)} ms  p99 ${result.latency.p99.toFixed(3)} ms`,
      );
    }
  }
  return { baseline: medians(baseline), ours: medians(ours) };
}

export async function runThroughput({ gatewayUrl, gatewayMetricsUrl, baselineUrl, key, chatbotId, rounds, seconds, connections, log }) {
  const path = `/api/v1/chatbots/${chatbotId}/messages`;
  const headers = { authorization: `Bearer ${key}` };
  const target = (side) => (side === 'baseline' ? baselineUrl : gatewayUrl) + path;
  // Warm-up: JIT on both sides, the key in the gateway's cache.
  for (const side of ['baseline', 'ours']) await load({ url: target(side), connections, duration: 2, headers });

  const max = await alternate({
    rounds,
    log,
    label: 'max',
    run: (side) => load({ url: target(side), connections, duration: seconds, headers }),
  });
  const rate = Math.round(0.7 * max.ours.rps);
  const hitsBefore = await scrape(gatewayMetricsUrl, 'gateway_auth_cache_hit_duration_seconds_bucket');
  const atRate = await alternate({
    rounds,
    log,
    label: `${rate}/s`,
    run: (side) => load({ url: target(side), connections, duration: seconds, headers, overallRate: rate }),
  });
  const hitsAfter = await scrape(gatewayMetricsUrl, 'gateway_auth_cache_hit_duration_seconds_bucket');
  return {
    max,
    authOnHit: histogramPercentiles(hitsBefore, hitsAfter, [50, 99, 99.9]),
    ratio: max.ours.rps / max.baseline.rps,
    rate,
    atRate,
    added: { p50: atRate.ours.p50 - atRate.baseline.p50, p99: atRate.ours.p99 - atRate.baseline.p99 },
  };
}
