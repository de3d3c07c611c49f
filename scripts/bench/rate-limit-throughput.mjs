// `node scripts/bench/rate-limit-throughput.mjs [--rounds 3] [--seconds 3]` (after `npm run build`):
// the bare proxy, the gateway with an unlimited chatbot key, and the gateway with a key whose
// rate limit is far above the load, in alternating rounds (medians). Goal: limited ≥ 0.95× unlimited.
import { parseArgs } from 'node:util';
import { load } from './load.mjs';
import { median } from './stats.mjs';
import { startHelper, stopAllHelpers } from './processes.mjs';
import { call, createChatbotKey, provisionTenant, startBenchSystem } from './system.mjs';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '3' } } });
const rounds = Number(args.rounds);
const seconds = Number(args.seconds);
const here = (file) => new URL(file, import.meta.url).pathname;

const upstream = await startHelper(here('./fast-upstream.mjs'));
const baseline = await startHelper(here('./baseline-proxy.mjs'), { UPSTREAM_URL: upstream.url });
const system = await startBenchSystem({ upstreamUrl: upstream.url });
try {
  const tenant = await provisionTenant(system, 1);
  const chatbotId = tenant.chatbots[0].id;
  const unlimited = await createChatbotKey(system, tenant, chatbotId);
  const limited = await call(system.gatewayUrl, 'POST', `/v1/chatbots/${chatbotId}/api-keys`, {
    credential: tenant.ownerKey,
    body: { name: 'limited', rateLimit: { requests: 1_000_000, windowSeconds: 1 } },
  });
  const path = `/api/v1/chatbots/${chatbotId}/messages`;
  const sides = {
    bare: { url: baseline.url + path, key: unlimited.key },
    unlimited: { url: system.gatewayUrl + path, key: unlimited.key },
    limited: { url: system.gatewayUrl + path, key: limited.body.key },
  };
  const results = { bare: [], unlimited: [], limited: [] };
  for (const side of Object.keys(sides))
    await load({ url: sides[side].url, connections: 50, duration: 1, headers: { authorization: `Bearer ${sides[side].key}` } });
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['bare', 'unlimited', 'limited'] : ['limited', 'unlimited', 'bare'];
    for (const side of order) {
      const result = await load({
        url: sides[side].url,
        connections: 50,
        duration: seconds,
        headers: { authorization: `Bearer ${sides[side].key}` },
      });
      if (result.responses !== result.ok) throw new Error(`${side}: non-200 answers ${JSON.stringify(result.statuses)}`);
      results[side].push(result.rps);
      process.stdout.write(`round ${round + 1} ${side.padEnd(9)} ${Math.round(result.rps)} req/s\n`);
    }
  }
  const m = Object.fromEntries(Object.entries(results).map(([side, rps]) => [side, median(rps)]));
  process.stdout.write(
    `medians: bare ${Math.round(m.bare)} req/s, unlimited ${Math.round(m.unlimited)} req/s, limited ${Math.round(m.limited)} req/s; limited/unlimited ${(m.limited / m.unlimited).toFixed(3)}\n`,
  );
} finally {
  await system.stop();
  await stopAllHelpers();
}
