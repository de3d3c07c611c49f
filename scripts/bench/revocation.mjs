// Scenario 4: revocation across 3 gateway replicas on one bus. Every key is first used (cached)
// on all three; then, one key at a time, DELETE through the management API of replica 1 and, from
// the moment that answers, each replica is polled in a tight loop until it refuses the key.
// Each key is polled from a loopback address of its own (127.1.x.y): the gateway's brake on
// clients presenting invalid keys (429 after 50 in a minute) would otherwise answer for the key.
import { Pool } from 'undici';
import { freePort } from '../system.mjs';
import { startGateway } from './processes.mjs';
import { createChatbotKeys } from './keys.mjs';
import { summarize } from './stats.mjs';

async function status(pool, path, key, method = 'GET') {
  const answer = await pool.request({ path, method, headers: { authorization: `Bearer ${key}` } });
  await answer.body.dump();
  return answer.statusCode;
}

export async function runRevocation({ system, bus, tenant, count, log }) {
  const extra = [await startGateway(system.env, await freePort()), await startGateway(system.env, await freePort())];
  const urls = [system.gatewayUrl, ...extra.map((g) => g.url)];
  const admin = new Pool(urls[0], { connections: 1 });
  const open = new Set();
  const poolsFor = (i) =>
    urls.map((url) => {
      const pool = new Pool(url, { connections: 1, localAddress: `127.1.${Math.floor(i / 254)}.${(i % 254) + 1}` });
      open.add(pool);
      return pool;
    });
  try {
    const keys = await createChatbotKeys(bus, tenant, count);
    const pathOf = (k) => `/api/v1/chatbots/${k.chatbotId}/messages`;
    for (const [i, k] of keys.entries()) {
      k.pools = poolsFor(i);
      for (const pool of k.pools) {
        const code = await status(pool, pathOf(k), k.key);
        if (code !== 200) throw new Error(`warming a key answered ${code}`);
      }
    }
    const times = [];
    let beforeAnswer = 0;
    for (const k of keys) {
      const deleted = await status(admin, `/v1/chatbots/${k.chatbotId}/api-keys/${k.keyId}`, tenant.ownerKey, 'DELETE');
      const answeredAt = performance.now();
      if (deleted !== 204) throw new Error(`DELETE answered ${deleted}`);
      const perReplica = await Promise.all(
        k.pools.map(async (pool) => {
          for (let polls = 0; ; polls++) {
            const code = await status(pool, pathOf(k), k.key);
            if (code === 401) return { ms: performance.now() - answeredAt, polls };
            if (code !== 200) throw new Error(`polling a revoked key answered ${code}`);
            if (performance.now() - answeredAt > 5_000) throw new Error('a replica still accepts a key 5 s after its DELETE');
          }
        }),
      );
      // Refused at the first poll: already refused when the DELETE answered (the poll's own time is the figure).
      if (perReplica.every((r) => r.polls === 0)) beforeAnswer++;
      times.push(Math.max(...perReplica.map((r) => r.ms)));
    }
    const result = { replicas: urls.length, revocations: keys.length, refusedAtFirstPoll: beforeAnswer, ...summarize(times) };
    log(
      `  ${keys.length} revocations on 3 replicas: p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms  max ${result.max.toFixed(2)} ms`,
    );
    return result;
  } finally {
    await Promise.all([admin, ...open].map((pool) => pool.close()));
    await Promise.all(extra.map((g) => g.stop()));
  }
}
