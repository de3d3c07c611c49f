// `node scripts/bench/rate-limit-accuracy.mjs`: the per-key limiter's
// accuracy with 3 replicas on a simulated clock (deterministic, no system needed), at 0.8x and
// 2x the limit, for the shipped algorithm (predicting the other replicas from their last rate)
// and for the plain one (only the last synced total), with the 50 ms sync interval.
import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../system.mjs';

// The simulation is test code, kept out of the build: loaded from its source.
register('../ts-loader.mjs', import.meta.url);
const { simulateReplicas } = await import(pathToFileURL(join(ROOT, 'apps/gateway/test/rate-limit/replica-simulation.ts')).href);

const cases = [
  { window: '1 s', limit: { requests: 100, windowSeconds: 1 }, durationMs: 20_000 },
  { window: '1 s (limit 1000)', limit: { requests: 1000, windowSeconds: 1 }, durationMs: 10_000 },
  { window: '60 s', limit: { requests: 600, windowSeconds: 60 }, durationMs: 300_000 },
];
console.log('| window | algorithm | load | max forwarded per window (% of limit) | min per full window | refused at 0.8x |');
console.log('|---|---|---|---|---|---|');
for (const { window, limit, durationMs } of cases) {
  const perSecond = limit.requests / limit.windowSeconds;
  for (const predictOthers of [true, false]) {
    const over = await simulateReplicas({ replicas: 3, limit, offeredPerSecond: perSecond * 2, durationMs, predictOthers });
    const calm = await simulateReplicas({ replicas: 3, limit, offeredPerSecond: perSecond * 0.8, durationMs, predictOthers });
    const full = over.admittedPerWindow.slice(0, -1);
    const pct = (count) => `${((100 * count) / limit.requests).toFixed(1)} %`;
    console.log(
      `| ${window} | ${predictOthers ? 'predict others (shipped)' : 'last synced total'} | 2x | ${pct(Math.max(...over.admittedPerWindow))} | ${pct(Math.min(...full))} | ${calm.refused} |`,
    );
  }
}
