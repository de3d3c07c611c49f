// Micro-benchmark of the gateway's verify cache alone, in one process: the V8 heap each cached key
// holds once garbage is collected, and the cost of a hit. Entries are made the way the gateway makes
// them: a verifier reply parsed from its JSON text (fresh strings per reply, as off the wire), checked
// by parseVerifyReply, stored under cacheKeyFor(keyHashOf(key), chatbotId). Needs `npm run build:services`.
//
//   node scripts/bench/verify-cache-memory.mjs [--keys 100000] [--accounts 1] [--json]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { load } from './system.mjs';

if (typeof globalThis.gc !== 'function') {
  // Re-run with a collector we can call: live memory is only measurable after a full collection.
  const argv = ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)];
  execFileSync(process.execPath, argv, { stdio: 'inherit' });
  process.exit(0);
}

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '100000' },
    accounts: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const count = Number(args.keys);
const accounts = Number(args.accounts);

const { VerifyCache, cacheKeyFor } = await load('apps/gateway/src/auth/verify-cache.js');
const { parseVerifyReply } = await load('apps/gateway/src/auth/verify-reply.js');
const { keyHashOf } = await load('apps/gateway/src/auth/key-hash.js');

const salt = randomBytes(4).toString('hex');
/** A UUID-shaped id made from a number, so nothing but the cache holds it. */
const uuid = (kind, i) => `${salt}-${kind.toString(16).padStart(4, '0')}-4000-8000-${i.toString(16).padStart(12, '0')}`;
const keyOf = (i) => `ck_live_${salt}${i.toString(36).padStart(24, '0')}`;
const replyText = (i) =>
  JSON.stringify({
    valid: true,
    allowed: true,
    keyId: uuid(1, i),
    type: 'chatbot',
    accountId: uuid(2, i % accounts),
    chatbotId: uuid(3, Math.floor(i / 10)),
    userId: null,
    rateLimit: null,
  });

function live() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

const cache = new VerifyCache({ maxEntries: count, ttlMs: 3_600_000, negativeTtlMs: 5_000 });
const now = Date.now();
const before = live();
for (let i = 0; i < count; i++) {
  const reply = parseVerifyReply(JSON.parse(replyText(i)));
  const keyHash = keyHashOf(keyOf(i));
  cache.set(cacheKeyFor(keyHash, reply.chatbotId), keyHash, reply, now);
}
const after = live();
if (cache.size !== count) throw new Error(`expected ${count} entries, found ${cache.size}`);

// Hits: the same key again and again (the hot path), then every key in turn (cold CPU caches).
const hotHash = keyHashOf(keyOf(0));
const hotBot = uuid(3, 0);
const hashes = Array.from({ length: count }, (_, i) => keyHashOf(keyOf(i)));
const bots = Array.from({ length: count }, (_, i) => uuid(3, Math.floor(i / 10)));
const hotKey = cacheKeyFor(hotHash, hotBot);
function nsPerHit(pick, iterations) {
  let found = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) if (cache.get(pick(i), now) !== undefined) found++;
  const ns = Number(process.hrtime.bigint() - started) / iterations;
  if (found !== iterations) throw new Error(`only ${found} of ${iterations} lookups hit`);
  return ns;
}
// The fastest round: on a shared machine the others measure the neighbours as much as the lookup.
const fastest = (values) => Math.min(...values);
const lookup = fastest(Array.from({ length: 9 }, () => nsPerHit(() => hotKey, 1_000_000)));
const hot = fastest(Array.from({ length: 9 }, () => nsPerHit(() => cacheKeyFor(hotHash, hotBot), 1_000_000)));
const spread = fastest(Array.from({ length: 5 }, () => nsPerHit((i) => cacheKeyFor(hashes[i % count], bots[i % count]), count)));

const result = {
  keys: count,
  accounts,
  heapBytesPerKey: (after.heap - before.heap) / count,
  rssBytesPerKey: (after.rss - before.rss) / count,
  lookupNs: lookup,
  hotHitNs: hot,
  spreadHitNs: spread,
};
if (args.json) console.log(JSON.stringify(result));
else {
  console.log(`${count} cached keys (${accounts} account${accounts === 1 ? '' : 's'}), after a full collection:`);
  console.log(`  heap ${Math.round(result.heapBytesPerKey)} B per key, RSS ${Math.round(result.rssBytesPerKey)} B per key`);
  console.log(`  hit, the same key again: ${lookup.toFixed(1)} ns (the lookup alone), ${hot.toFixed(1)} ns (cache key built per hit)`);
  console.log(`  hit, every key in turn: ${spread.toFixed(1)} ns (cache key built per hit)`);
}
