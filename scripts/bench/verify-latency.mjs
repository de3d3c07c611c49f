// Scenario 3: the verify path on a gateway cache miss, measured where the gateway asks it: one
// `auth.verify` request at a time over NATS, (a) answered from the verifier's Redis, (b) with the
// key's Redis entry deleted first, so key-management reads Postgres, (c) with every entry the
// decision needs deleted (key, plan, chatbot owner): two key-management lookups in a row.
import { Redis } from 'ioredis';
import { createChatbotKeys } from './keys.mjs';
import { summarize } from './stats.mjs';

async function timeEach(keys, before, bus) {
  const samples = [];
  for (const entry of keys) {
    if (before) await before(entry);
    const started = performance.now();
    const reply = await bus.verify({ key: entry.key, chatbotId: entry.chatbotId }, 5_000);
    samples.push(performance.now() - started);
    if (!reply.valid || !reply.allowed) throw new Error(`verify refused a live key: ${JSON.stringify(reply)}`);
  }
  return summarize(samples);
}

export async function runVerifyLatency({ system, bus, tenant, samples, log }) {
  const keys = await createChatbotKeys(bus, tenant, samples);
  const prefix = system.namespace.redisPrefix;
  const redis = new Redis(system.namespace.redisUrl);
  try {
    // First pass fills the verifier's Redis (and warms every process on the path).
    await timeEach(keys, null, bus);
    const redisHit = await timeEach(keys, null, bus);
    log(`  verify, Redis hit:        p50 ${redisHit.p50.toFixed(3)} ms  p99 ${redisHit.p99.toFixed(3)} ms`);
    const keyMiss = await timeEach(keys, (k) => redis.del(`${prefix}key:${k.keyHash}`), bus);
    log(`  verify, key from Postgres: p50 ${keyMiss.p50.toFixed(3)} ms  p99 ${keyMiss.p99.toFixed(3)} ms`);
    const allMiss = await timeEach(
      keys,
      (k) => redis.del(`${prefix}key:${k.keyHash}`, `${prefix}plan:${tenant.account.id}`, `${prefix}chatbot:${k.chatbotId}`),
      bus,
    );
    log(`  verify, all from Postgres: p50 ${allMiss.p50.toFixed(3)} ms  p99 ${allMiss.p99.toFixed(3)} ms`);
    return { samples: keys.length, redisHit, keyMiss, allMiss };
  } finally {
    redis.disconnect();
  }
}
