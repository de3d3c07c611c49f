// Scenario 3: the verify path on a gateway cache miss, measured where the gateway asks it: one
// `auth.verify` request at a time over NATS, (a) answered from the verifier's Redis, (b) with the
// key's Redis entry deleted first, so key-management reads Postgres, (c) with every entry the
// decision needs deleted (key, plan, chatbot owner): two key-management lookups in a row.
// Beside (a), interleaved sample by sample, the floor of this machine: a bare NATS request-reply
// (an echo responder on the bench's own connection, the same two server hops) and a bare Redis GET;
// and the verifier's own time per request over that pass, from its duration histogram.
import { Redis } from 'ioredis';
import { createChatbotKeys } from './keys.mjs';
import { histogramPercentiles, summarize } from './stats.mjs';
import { scrape } from './system.mjs';

async function timeEach(keys, before, bus) {
  const samples = [];
  for (const entry of keys) {
    if (before) await before(entry);
    const started = performance.now();
    const reply = await bus.requestBare('authVerify', { key: entry.key, chatbotId: entry.chatbotId }, 5_000);
    samples.push(performance.now() - started);
    if (!reply.valid || !reply.allowed) throw new Error(`verify refused a live key: ${JSON.stringify(reply)}`);
  }
  return summarize(samples);
}

/** Verify from Redis, a bare NATS round trip and a bare Redis GET, one after another for each key. */
async function timeWithFloor(keys, bus, redis, prefix) {
  const subject = `bench.echo.${process.pid}.${Date.now()}`;
  const echo = bus.connection.subscribe(subject, { callback: (_error, msg) => msg.respond(msg.data) });
  await bus.connection.flush();
  const verify = [];
  const natsEcho = [];
  const redisGet = [];
  try {
    for (const entry of keys) {
      let started = performance.now();
      const reply = await bus.requestBare('authVerify', { key: entry.key, chatbotId: entry.chatbotId }, 5_000);
      verify.push(performance.now() - started);
      if (!reply.valid || !reply.allowed) throw new Error(`verify refused a live key: ${JSON.stringify(reply)}`);
      started = performance.now();
      await bus.connection.request(subject, entry.keyHash, { timeout: 5_000 });
      natsEcho.push(performance.now() - started);
      started = performance.now();
      await redis.get(`${prefix}key:${entry.keyHash}`);
      redisGet.push(performance.now() - started);
    }
  } finally {
    echo.unsubscribe();
  }
  return { redisHit: summarize(verify), natsEcho: summarize(natsEcho), redisGet: summarize(redisGet) };
}

export async function runVerifyLatency({ system, bus, tenant, samples, log }) {
  const keys = await createChatbotKeys(bus, tenant, samples);
  const prefix = system.namespace.redisPrefix;
  const redis = new Redis(system.namespace.redisUrl);
  try {
    // First pass fills the verifier's Redis (and warms every process on the path).
    await timeEach(keys, null, bus);
    // The verifier's own time per request over the same pass, from its histogram.
    const verifierUrl = system.serviceUrl('auth-verifier');
    const histogram = 'auth_verifier_verify_duration_seconds_bucket';
    const before = await scrape(verifierUrl, histogram);
    const { redisHit, natsEcho, redisGet } = await timeWithFloor(keys, bus, redis, prefix);
    const verifierOwn = histogramPercentiles(before, await scrape(verifierUrl, histogram), [50, 99], (labels) =>
      labels.includes('outcome="allowed"'),
    );
    log(`  verify, Redis hit:        p50 ${redisHit.p50.toFixed(3)} ms  p99 ${redisHit.p99.toFixed(3)} ms`);
    log(`  the verifier's own time: p50 ≤ ${verifierOwn.p50} ms  p99 ≤ ${verifierOwn.p99} ms`);
    log(
      `  floor: NATS echo p50 ${natsEcho.p50.toFixed(3)} ms  p99 ${natsEcho.p99.toFixed(3)} ms; Redis GET p50 ${redisGet.p50.toFixed(3)} ms  p99 ${redisGet.p99.toFixed(3)} ms`,
    );
    const keyMiss = await timeEach(keys, (k) => redis.del(`${prefix}key:${k.keyHash}`), bus);
    log(`  verify, key from Postgres: p50 ${keyMiss.p50.toFixed(3)} ms  p99 ${keyMiss.p99.toFixed(3)} ms`);
    const allMiss = await timeEach(
      keys,
      // Plans are fields of one hash per shard (one shard on a single Redis).
      (k) =>
        redis.multi().del(`${prefix}key:${k.keyHash}`, `${prefix}chatbot:${k.chatbotId}`).hdel(`${prefix}plans`, tenant.account.id).exec(),
      bus,
    );
    log(`  verify, all from Postgres: p50 ${allMiss.p50.toFixed(3)} ms  p99 ${allMiss.p99.toFixed(3)} ms`);
    return { samples: keys.length, redisHit, natsEcho, redisGet, verifierOwn, keyMiss, allMiss };
  } finally {
    redis.disconnect();
  }
}
