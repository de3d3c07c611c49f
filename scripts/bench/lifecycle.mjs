// Scenario 4b: lifecycle changes across 3 gateway replicas, measured like revocation beside it.
// Every key is first used (cached) on all three; then, one key at a time, a change takes effect and
// each replica is polled in a tight loop until it refuses the key. The figure per key is the
// slowest replica, counted from the instant the change takes effect:
// - expiry: keys created with staggered expiresAt; from that instant (no event: the caches' own bound);
// - disable: PATCH {"enabled":false} on replica 1; from its answer;
// - roll cut-off: POST …/roll {"gracePeriodSeconds":2} on replica 1; from the old key's cut-off, as the
//   listing shows it (its expiresAt).
// Each key is polled from a loopback address of its own (see revocation.mjs: the invalid-key brake).
import { Pool } from 'undici';
import { freePort } from '../system.mjs';
import { startGateway } from './processes.mjs';
import { createChatbotKeys } from './keys.mjs';
import { summarize } from './stats.mjs';

const EXPIRY_SPACING_MS = 250;
// Long enough to read the cut-off from the listing before it comes, even on a loaded machine.
const GRACE_SECONDS = 2;

async function send(pool, path, key, method = 'GET', body) {
  const answer = await pool.request({
    path,
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  await answer.body.dump();
  return answer.statusCode;
}

const sleepUntil = (at) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));

export async function runLifecyclePropagation({ system, bus, tenant, count, log }) {
  const extra = [await startGateway(system.env, await freePort()), await startGateway(system.env, await freePort())];
  const urls = [system.gatewayUrl, ...extra.map((g) => g.url)];
  const admin = new Pool(urls[0], { connections: 1 });
  const open = new Set();
  // Loopback addresses from 127.2.0.1 on: revocation.mjs uses 127.1.x.y.
  let nextAddress = 0;
  const pools = () =>
    urls.map((url) => {
      const i = nextAddress++;
      const pool = new Pool(url, { connections: 1, localAddress: `127.2.${Math.floor(i / 254)}.${(i % 254) + 1}` });
      open.add(pool);
      return pool;
    });
  const pathOf = (k) => `/api/v1/chatbots/${k.chatbotId}/messages`;
  const manage = (k) => `/v1/chatbots/${k.chatbotId}/api-keys/${k.keyId}`;

  async function warm(keys) {
    for (const k of keys) {
      k.pools = pools();
      for (const pool of k.pools) {
        const code = await send(pool, pathOf(k), k.key);
        // A key that expired while the rest were warmed is left out of the measurement below.
        if (code === 401 && k.expiresAt !== undefined && Date.now() >= k.expiresAt) break;
        if (code !== 200) throw new Error(`warming a key answered ${code}`);
      }
    }
  }

  /** `change(k)` makes the change and resolves with the performance.now() instant it takes effect. */
  async function measure(name, keys, change) {
    const times = [];
    let atFirstPoll = 0;
    for (const k of keys) {
      const effectiveAt = await change(k);
      await sleepUntil(effectiveAt);
      const perReplica = await Promise.all(
        k.pools.map(async (pool) => {
          for (let polls = 0; ; polls++) {
            const code = await send(pool, pathOf(k), k.key);
            if (code === 401) return { ms: performance.now() - effectiveAt, polls };
            if (code !== 200) throw new Error(`${name}: polling answered ${code}`);
            if (performance.now() - effectiveAt > 5_000) throw new Error(`${name}: a replica still accepts a key 5 s after the change`);
          }
        }),
      );
      if (perReplica.every((r) => r.polls === 0)) atFirstPoll++;
      times.push(Math.max(...perReplica.map((r) => r.ms)));
    }
    const result = { changes: keys.length, refusedAtFirstPoll: atFirstPoll, ...summarize(times) };
    log(
      `  ${name}, ${keys.length} keys on 3 replicas: p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms  max ${result.max.toFixed(2)} ms`,
    );
    return result;
  }

  try {
    // Expiry: far enough ahead that every key is created and warm before the first one expires,
    // even on a loaded machine (creating and warming takes ~10-100 ms per key there).
    const firstExpiry = Date.now() + 15_000 + count * 250;
    const expiring = await createChatbotKeys(bus, tenant, count, {
      fields: (i) => ({ expiresAt: new Date(firstExpiry + i * EXPIRY_SPACING_MS).toISOString() }),
    });
    expiring.forEach((k, i) => (k.expiresAt = firstExpiry + i * EXPIRY_SPACING_MS));
    await warm(expiring);
    // Keys whose expiry came while the machine was still warming the rest are not measured.
    const cached = expiring.filter((k) => k.expiresAt > Date.now() + 100);
    log(`  expiry: ${cached.length} of ${expiring.length} keys still ahead of their expiry once all were warm`);
    if (cached.length < expiring.length / 2) throw new Error('expiry: warming the keys took longer than planned');
    const expiry = await measure('expiry', cached, async (k) => performance.now() + (k.expiresAt - Date.now()));

    const disabling = await createChatbotKeys(bus, tenant, count);
    await warm(disabling);
    const disable = await measure('disable', disabling, async (k) => {
      const code = await send(admin, manage(k), tenant.ownerKey, 'PATCH', { enabled: false });
      if (code !== 200) throw new Error(`PATCH answered ${code}`);
      return performance.now();
    });

    const rolling = await createChatbotKeys(bus, tenant, count);
    await warm(rolling);
    const rollCutOff = await measure('roll cut-off', rolling, async (k) => {
      const code = await send(admin, `${manage(k)}/roll`, tenant.ownerKey, 'POST', { gracePeriodSeconds: GRACE_SECONDS });
      if (code !== 201) throw new Error(`roll answered ${code}`);
      // The listing shows the old key's cut-off as its expiresAt: the instant key-management set.
      const listing = await admin.request({
        path: `/v1/chatbots/${k.chatbotId}/api-keys`,
        method: 'GET',
        headers: { authorization: `Bearer ${tenant.ownerKey}` },
      });
      const old = (await listing.body.json()).data.find((key) => key.id === k.keyId);
      if (!old?.expiresAt) throw new Error('roll cut-off: the old key is not listed with its cut-off');
      return performance.now() + (Date.parse(old.expiresAt) - Date.now());
    });
    return { replicas: urls.length, expiry, disable, rollCutOff };
  } finally {
    await Promise.all([admin, ...open].map((pool) => pool.close()));
    await Promise.all(extra.map((g) => g.stop()));
  }
}
