// Scenario 5: 100,000 active keys. Written in bulk into key-management's tables (one at a time
// over its bus API is measured too, on a sample, and would take most of the run), then driven
// through the gateway one key after another: a cold pass (every request a gateway miss, and a
// verifier miss to Postgres), then warm rounds across all keys alternating with control rounds (the
// same generator, one key), on a gateway replica whose cache TTL outlasts the cold pass. Memory of every process and the
// entries of every cache are read from /metrics and Redis, before and after.
import { Redis } from 'ioredis';
import { createChatbotKeys, insertChatbotKeys } from './keys.mjs';
import { load } from './load.mjs';
import { scrape } from './system.mjs';
import { freePort } from '../system.mjs';
import { startGateway } from './processes.mjs';
import { cpuScope, cpuSnapshot, cpuSpent } from './cpu.mjs';
import { collectGarbage, cpuProfileDuring, deployedGatewayNodeOptions, inspectable, peakRssBytes } from './heap.mjs';
import { summarizeProfile } from './profile.mjs';

const MiB = 2 ** 20;
const WARM_UP_KEYS = 1_000;

async function memory(system, gatewayMetricsUrl, gatewayInspectorPort) {
  // What the gateway holds, not what its collector has yet to reclaim.
  await collectGarbage(gatewayInspectorPort);
  const gatewayBytes = {
    rss: (await scrape(gatewayMetricsUrl, 'process_resident_memory_bytes'))[''],
    heap: (await scrape(gatewayMetricsUrl, 'nodejs_heap_size_used_bytes'))[''],
  };
  const rss = {};
  for (const service of ['gateway', 'auth-verifier', 'key-management']) {
    const serviceUrl = service === 'gateway' ? gatewayMetricsUrl : system.serviceUrl(service);
    const values = await scrape(serviceUrl, 'process_resident_memory_bytes');
    const heap = await scrape(serviceUrl, 'nodejs_heap_size_used_bytes');
    rss[service] = `${Math.round(values[''] / MiB)} (heap ${Math.round(heap[''] / MiB)})`;
  }
  const entries = await scrape(gatewayMetricsUrl, 'gateway_auth_memory_entries');
  const gateway = Object.fromEntries(Object.entries(entries).map(([labels, value]) => [/structure="([^"]+)"/.exec(labels)[1], value]));
  const redis = new Redis(system.namespace.redisUrl);
  let cursor = '0';
  const redisKeys = { key: 0, plan: 0, chatbot: 0, other: 0 };
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${system.namespace.redisPrefix}*`, 'COUNT', 5000);
    for (const name of found) {
      const kind = name.slice(system.namespace.redisPrefix.length).split(':')[0];
      // Cached plans are the fields of one hash (`plans`), not names of their own.
      if (kind === 'plans') redisKeys.plan += await redis.hlen(name);
      else redisKeys[kind in redisKeys ? kind : 'other']++;
    }
    cursor = next;
  } while (cursor !== '0');
  const redisMemory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))[1]);
  redis.disconnect();
  return { rssMiB: rss, gatewayBytes, gatewayEntries: gateway, redisKeys, redisUsedMiB: Math.round(redisMemory / MiB) };
}

/** CPU seconds per process group, as milliseconds per 1,000 answered requests. */
function msPer1000(spentSeconds, requests) {
  return Object.fromEntries(Object.entries(spentSeconds).map(([group, seconds]) => [group, (seconds * 1000 * 1000) / requests]));
}

/** The round with the median throughput (its latencies with it). */
function medianRound(results) {
  const sorted = [...results].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export async function runManyKeys({ system, bus, tenant, count, seconds, coldSeconds, connections, rounds, profile, log }) {
  const sample = Math.min(1_000, count);
  let started = performance.now();
  const viaBus = await createChatbotKeys(bus, tenant, sample, { concurrency: 64 });
  const busRate = sample / ((performance.now() - started) / 1000);
  started = performance.now();
  const keys = [...viaBus, ...(await insertChatbotKeys(system.namespace.databaseUrl, tenant, count - sample))];
  const createSeconds = (performance.now() - started) / 1000;
  log(
    `  ${sample} keys over the bus at ${Math.round(busRate)} keys/s; ${count - sample} more written in bulk in ${createSeconds.toFixed(1)} s`,
  );
  const targets = keys.map((k) => ({ path: `/api/v1/chatbots/${k.chatbotId}/messages`, key: k.key }));
  // A replica of its own whose cache keeps answers for 10 minutes (default 30 s): on this machine the cold
  // pass over every key takes longer than 30 s, and the warm rounds are meant to find every key cached.
  // Its heap bound is the deployed one (k8s/base/gateway.yaml), and an inspector lets the bench collect
  // its garbage before each memory reading.
  const nodeOptions = deployedGatewayNodeOptions();
  const inspector = await inspectable();
  const gateway = await startGateway({ ...system.env, AUTH_CACHE_TTL_MS: '600000' }, await freePort(), {
    nodeArgs: [...nodeOptions, ...inspector.nodeArgs],
  });
  const url = gateway.url;
  // A first thousand keys of their own through the new gateway before the first reading: what a
  // process sets up once (compiled code, lazily built state) is then not charged to the keys.
  const warmUp = await insertChatbotKeys(system.namespace.databaseUrl, tenant, WARM_UP_KEYS);
  const warmUpTargets = warmUp.map((k) => ({ path: `/api/v1/chatbots/${k.chatbotId}/messages`, key: k.key }));
  // Its answers are not judged: it only has to have run (keys a slow verifier left uncached are not counted below).
  await load({ url, connections, amount: WARM_UP_KEYS, targets: warmUpTargets, maxSeconds: coldSeconds });
  const before = await memory(system, gateway.metricsUrl, inspector.port);
  const cold = await load({ url, connections, amount: count, targets, maxSeconds: coldSeconds });
  // Keys the cold pass reached (all of them unless its time limit ran out first): the warm rounds cycle through those.
  const warmed = targets.slice(0, Math.min(count, cold.responses));
  log(
    `  cold pass (gateway and verifier misses): ${Math.round(cold.rps)} req/s, p50 ${cold.latency.p50.toFixed(2)} ms p99 ${cold.latency.p99.toFixed(2)} ms`,
  );
  // Alternating rounds against a control: the same generator cycling through as many targets, all of them
  // one warm key. Cycling through targets costs autocannon a request rebuild each time, so comparing with the
  // single-key throughput scenario would charge the load generator's work to the gateway.
  const oneKey = warmed.map(() => warmed[0]);
  const warmRounds = [];
  const controlRounds = [];
  // CPU per process group over each side's rounds: where the work per request went.
  const cpu = { warm: {}, control: {} };
  const scope = cpuScope(system.namespace);
  const runRound = (side) => load({ url, connections, duration: seconds, targets: side === 'warm' ? warmed : oneKey });
  /** One round of a side, with the CPU seconds each process group spent meanwhile. */
  const measuredRound = async (side) => {
    const before = cpuSnapshot(scope);
    const result = await runRound(side);
    return { result, spent: cpuSpent(before, cpuSnapshot(scope)) ?? {} };
  };
  // Not counted: a short round of each side lets what the cold pass left behind (its usage backlog) settle first.
  for (const targets of [warmed, oneKey]) await load({ url, connections, duration: 2, targets });
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['warm', 'control'] : ['control', 'warm'];
    for (const side of order) {
      const { result, spent } = await measuredRound(side);
      for (const [group, value] of Object.entries(spent)) cpu[side][group] = (cpu[side][group] ?? 0) + value;
      (side === 'warm' ? warmRounds : controlRounds).push(result);
    }
  }
  // Where the gap is: one more pair of rounds (not counted above) with the usage-tracker stopped
  // (SIGSTOP), so that usage is published and stored in the stream but neither consumed nor written
  // to PostgreSQL; then it resumes and counts the backlog (exactly: nothing was acked meanwhile).
  const tracker = system.running.services.find((service) => service.name === 'usage-tracker');
  const trackerStopped = { cpu: { warm: {}, control: {} }, rps: {} };
  tracker.child.kill('SIGSTOP');
  try {
    for (const side of ['warm', 'control']) {
      const { result, spent } = await measuredRound(side);
      trackerStopped.rps[side] = result.rps;
      trackerStopped.cpu[side] = msPer1000(spent, result.ok);
    }
  } finally {
    tracker.child.kill('SIGCONT');
  }
  // With --profile: one more round of each side (not counted above) under the gateway's CPU profiler.
  const profiles = {};
  if (profile) {
    for (const side of ['warm', 'control']) {
      const { profile: taken } = await cpuProfileDuring(inspector.port, () => runRound(side));
      profiles[side] = summarizeProfile(taken, { limit: 30 });
    }
  }
  const requests = (results) => results.reduce((sum, result) => sum + result.ok, 0);
  const warm = medianRound(warmRounds);
  const control = medianRound(controlRounds);
  log(
    `  warm across ${warmed.length} keys: ${Math.round(warm.rps)} req/s (one key, same generator: ${Math.round(control.rps)}), p50 ${warm.latency.p50.toFixed(2)} ms p99 ${warm.latency.p99.toFixed(2)} ms`,
  );
  const after = await memory(system, gateway.metricsUrl, inspector.port);
  const peakRss = peakRssBytes(gateway.child.pid);
  await gateway.stop();
  // Per key the verify cache gained between the readings: what 100,000 cached keys cost, from the keys this run reached.
  const cached = (after.gatewayEntries.verify_cache_valid ?? 0) - (before.gatewayEntries.verify_cache_valid ?? 0);
  const gatewayMemory = {
    nodeOptions: nodeOptions.join(' '),
    cachedKeys: cached,
    rssBytesPerKey: cached > 0 ? (after.gatewayBytes.rss - before.gatewayBytes.rss) / cached : undefined,
    heapBytesPerKey: cached > 0 ? (after.gatewayBytes.heap - before.gatewayBytes.heap) / cached : undefined,
    peakRssBytes: peakRss,
  };
  log(
    `  gateway after a full collection: ${Math.round(gatewayMemory.rssBytesPerKey)} B RSS, ${Math.round(gatewayMemory.heapBytesPerKey)} B heap per cached key (${cached} keys); peak RSS ${Math.round(peakRss / MiB)} MiB`,
  );
  for (const [name, result] of [['cold', cold], ...warmRounds.map((r) => ['warm', r]), ...controlRounds.map((r) => ['control', r])]) {
    if (result.ok !== result.responses) throw new Error(`${name} pass: non-200 answers ${JSON.stringify(result.statuses)}`);
  }
  const roundsRps = (results) => results.map((result) => Math.round(result.rps));
  return {
    keys: count,
    warmKeys: warmed.length,
    viaBus: sample,
    busRate,
    createSeconds,
    cold,
    roundSeconds: seconds,
    warm: { ...warm, rounds: roundsRps(warmRounds) },
    control: { ...control, rounds: roundsRps(controlRounds) },
    // Each warm round against the control round run next to it: the machine's speed drifts between rounds
    // (other work on shared cores), and a pair shares its moment.
    pairedRatios: warmRounds.map((result, i) => result.rps / controlRounds[i].rps),
    // One warm and one control round with the usage-tracker stopped: req/s and CPU ms per 1,000 requests.
    trackerStopped,
    // CPU milliseconds per 1,000 answered requests, by process group.
    cpuMsPer1000: { warm: msPer1000(cpu.warm, requests(warmRounds)), control: msPer1000(cpu.control, requests(controlRounds)) },
    before,
    after,
    gatewayMemory,
    ...(profile ? { profiles } : {}),
  };
}
