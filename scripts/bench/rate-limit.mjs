// Scenario "rate-limit": what a per-key rate limit costs and how exactly it holds across replicas.
// 1. Throughput: the bare proxy, the gateway with an unlimited chatbot key and with a key whose
//    limit is far above the load, in alternating rounds (goal: limited ≥ 0.95× unlimited).
// 2. Accuracy on 3 gateway processes sharing the run's Redis: a key driven at 2× its limit and one
//    at 0.75×, spread round-robin, for a 1 s and a 60 s window; what each window forwarded is read
//    from the gateways' shared counts and checked against the 200 answers the client got.
// 3. The algorithm against its simpler variants on a simulated clock (deterministic): why it ships.
import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { freePort, ROOT } from '../system.mjs';
import { load } from './load.mjs';
import { median } from './stats.mjs';
import { startGateway } from './processes.mjs';
import { call } from './system.mjs';

async function createKey(system, tenant, chatbotId, rateLimit) {
  const answer = await call(system.gatewayUrl, 'POST', `/v1/chatbots/${chatbotId}/api-keys`, {
    credential: tenant.ownerKey,
    body: { name: 'rate-limit bench', rateLimit },
  });
  if (answer.status !== 201) throw new Error(`create limited key: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { id: answer.body.id, key: answer.body.key };
}

async function throughput({ system, baseline, tenant, hotKey, settings, log }) {
  const chatbotId = hotKey.chatbotId;
  const limited = await createKey(system, tenant, chatbotId, { requests: 1_000_000, windowSeconds: 1 });
  const path = `/api/v1/chatbots/${chatbotId}/messages`;
  const sides = {
    bare: { url: baseline.url + path, key: hotKey.key },
    unlimited: { url: system.gatewayUrl + path, key: hotKey.key },
    limited: { url: system.gatewayUrl + path, key: limited.key },
  };
  const run = (side, duration) =>
    load({ url: sides[side].url, connections: settings.connections, duration, headers: { authorization: `Bearer ${sides[side].key}` } });
  for (const side of Object.keys(sides)) await run(side, 2);
  const rounds = { bare: [], unlimited: [], limited: [] };
  for (let round = 0; round < settings.rounds; round++) {
    const order = round % 2 === 0 ? ['bare', 'unlimited', 'limited'] : ['limited', 'unlimited', 'bare'];
    for (const side of order) {
      const result = await run(side, settings.seconds);
      if (result.responses !== result.ok || result.errors > 0)
        throw new Error(`rate-limit ${side}: non-200 answers ${JSON.stringify(result.statuses)}`);
      rounds[side].push(result.rps);
      log(`  rate-limit round ${round + 1} ${side.padEnd(9)} ${Math.round(result.rps)} req/s`);
    }
  }
  const medians = Object.fromEntries(Object.entries(rounds).map(([side, rps]) => [side, median(rps)]));
  return { rounds, medians, ratio: medians.limited / medians.unlimited };
}

/**
 * Requests at a steady rate, round-robin over the gateways, each sent without waiting for the
 * ones before (as independent clients do); resolves with every status once all have answered.
 */
async function paced({ gateways, key, path, perSecond, until, windowMs }) {
  const pending = [];
  const interval = 1000 / perSecond;
  let next = Date.now();
  let index = 0;
  while (next < until) {
    const wait = next - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const slot = next;
    next += interval;
    // Behind schedule (a busy machine), the slots still due in this window go out at once; those of a window
    // already over are dropped: no window is offered more than its planned share.
    if (Math.floor(slot / windowMs) !== Math.floor(Date.now() / windowMs) || Date.now() >= until) continue;
    const gateway = gateways[index++ % gateways.length];
    pending.push(
      fetch(gateway + path, { headers: { authorization: `Bearer ${key}` } }).then(
        async (response) => (await response.arrayBuffer(), response.status),
        () => 0,
      ),
    );
  }
  return Promise.all(pending);
}

/** Forwarded requests per window, as the gateways shared them in Redis (window index → count). */
async function sharedCounts(redis, prefix, keyId, windowSeconds) {
  const base = `${prefix}rl:${keyId}:${windowSeconds}:`;
  const counts = new Map();
  for (const entry of await redis.keys(`${base}*`)) {
    if (entry.endsWith(':active')) continue;
    const values = await redis.hvals(entry);
    counts.set(
      Number(entry.slice(base.length)),
      values.reduce((sum, value) => sum + Number(value), 0),
    );
  }
  return counts;
}

async function accuracyRun({ system, tenant, gateways, redis, limit, seconds, log }) {
  const chatbotId = tenant.chatbots[1].id;
  const busy = await createKey(system, tenant, chatbotId, limit);
  const calm = await createKey(system, tenant, chatbotId, limit);
  const windowMs = limit.windowSeconds * 1000;
  let until;
  let span;
  if (limit.windowSeconds === 1) {
    until = Date.now() + seconds * 1000;
    span = windowMs;
  } else {
    // One window, from now to a second before its end (the next one if too little of it is left).
    if (windowMs - (Date.now() % windowMs) < 20_000)
      await new Promise((resolve) => setTimeout(resolve, windowMs - (Date.now() % windowMs) + 50));
    until = Math.floor(Date.now() / windowMs) * windowMs + windowMs - 1_000;
    span = until - Date.now();
  }
  const path = `/api/v1/chatbots/${chatbotId}/messages`;
  const rate = (share) => (share * limit.requests * 1000) / span;
  log(
    `  rate-limit accuracy: ${limit.requests} per ${limit.windowSeconds} s, 2x and 0.75x through 3 gateways for ${Math.round((until - Date.now()) / 1000)} s`,
  );
  const [busyStatuses, calmStatuses] = await Promise.all([
    paced({ gateways, key: busy.key, path, perSecond: rate(2), until, windowMs }),
    paced({ gateways, key: calm.key, path, perSecond: rate(0.75), until, windowMs }),
  ]);
  const tally = (statuses) => ({
    sent: statuses.length,
    forwarded: statuses.filter((status) => status === 200).length,
    refused: statuses.filter((status) => status === 429).length,
    other: statuses.filter((status) => status !== 200 && status !== 429).length,
  });
  const busyTally = tally(busyStatuses);
  const calmTally = tally(calmStatuses);
  // The last admissions reach Redis within a sync interval or two.
  let counts;
  for (let attempt = 0; attempt < 100; attempt++) {
    counts = await sharedCounts(redis, system.namespace.redisPrefix, busy.id, limit.windowSeconds);
    if ([...counts.values()].reduce((a, b) => a + b, 0) === busyTally.forwarded) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const perWindow = [...counts.entries()].sort(([a], [b]) => a - b).map(([, count]) => count);
  return {
    limit,
    busy: busyTally,
    calm: calmTally,
    perWindow,
    maxRatio: Math.max(...perWindow) / limit.requests,
    consistent: perWindow.reduce((a, b) => a + b, 0) === busyTally.forwarded,
  };
}

/** The shipped algorithm and its simpler variants, 3 replicas at 2× and 0.79× the limit, under calm and harsh conditions. */
async function simulated() {
  // The simulation is test code (not in the build): read from its source through the project's TypeScript loader.
  register('../ts-loader.mjs', import.meta.url);
  const { simulateReplicas } = await import(pathToFileURL(join(ROOT, 'apps/gateway/test/rate-limit/replica-simulation.ts')).href);
  const variants = [
    ['last synced total (Tyk/Unkey style)', { predictOthers: false, maxStaleIntervals: Infinity, shareAbove: 1 }],
    ['+ others predicted from their rate', { predictOthers: true, maxStaleIntervals: Infinity, shareAbove: 1 }],
    ['+ shares of the remainder and a fresh view (shipped)', {}],
  ];
  const conditions = [
    ['steady, store round trip 1 ms', { storeLatencyMs: 1 }],
    ['every process stalls 200 ms per second', { storeLatencyMs: 2, stall: { everyMs: 1_000, forMs: 200 } }],
    ['stalls 100 ms per 300 ms, client bursts every 50 ms', { storeLatencyMs: 2, stall: { everyMs: 300, forMs: 100 }, clientBurstMs: 50 }],
    ['client bursts every 300 ms, reaching all replicas at once', { storeLatencyMs: 2, clientBurstMs: 300 }],
  ];
  const rows = [];
  for (const requests of [100, 1000]) {
    const limit = { requests, windowSeconds: 1 };
    for (const [condition, options] of conditions) {
      for (const [variant, limiter] of variants) {
        const base = { replicas: 3, limit, durationMs: 20_000, limiter, ...options };
        const over = await simulateReplicas({ ...base, offeredPerSecond: requests * 2 });
        const calm = await simulateReplicas({ ...base, offeredPerSecond: requests * 0.79 });
        const full = over.admittedPerWindow.slice(1, -1);
        rows.push({
          limit,
          condition,
          variant,
          max: Math.max(...full) / requests,
          min: Math.min(...full) / requests,
          calmRefused: calm.refused,
        });
      }
    }
  }
  return rows;
}

export async function runRateLimit(context) {
  const { system, settings, log } = context;
  log('  rate-limit: throughput, bare proxy vs unlimited key vs a key limited far above the load');
  const speed = await throughput(context);
  const replicas = [];
  const redis = new Redis(system.namespace.redisUrl);
  try {
    for (let i = 0; i < 2; i++) replicas.push(await startGateway(system.env, await freePort()));
    const gateways = [system.gatewayUrl, ...replicas.map((replica) => replica.url)];
    const accuracy = [];
    for (const limit of [
      { requests: 100, windowSeconds: 1 },
      { requests: 600, windowSeconds: 60 },
    ]) {
      accuracy.push(await accuracyRun({ ...context, gateways, redis, limit, seconds: settings.rateLimitSeconds }));
    }
    log('  rate-limit: the algorithm and its variants on a simulated clock');
    return { ...speed, accuracy, simulated: await simulated() };
  } finally {
    redis.disconnect();
    await Promise.all(replicas.map((replica) => replica.stop()));
  }
}
