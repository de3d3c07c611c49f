// Writes BENCHMARKS.md from a run's results, and the raw results as BENCHMARKS.json beside it.
import { writeFileSync } from 'node:fs';
import { median } from './stats.mjs';

const f = (value, digits = 2) => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–');
const n = (value) => (typeof value === 'number' && Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');
const verdict = (ok) => (ok === undefined ? 'not run' : ok ? '**met**' : '**not met**');

function goals(s) {
  const rows = [];
  const t = s.throughput;
  if (t) {
    rows.push(['Throughput, chatbot key, warm cache ≥ 0.90× bare proxy', `${f(t.ratio)}×`, verdict(t.ratio >= 0.9)]);
    const hit = t.authOnHit;
    rows.push([
      'Added latency at 70 % load, cache hit: p99 ≤ 0.5 ms',
      hit
        ? `authentication inside the gateway: p99 ≤ ${f(hit.p99, 3)} ms (${n(hit.samples)} requests); end to end, gateway minus bare proxy: p99 ${f(t.added.p99, 3)} ms, p50 ${f(t.added.p50, 3)} ms`
        : `${f(t.added.p99, 3)} ms (p50 ${f(t.added.p50, 3)} ms)`,
      verdict(hit ? hit.p99 <= 0.5 : t.added.p99 <= 0.5),
    ]);
  }
  const v = s.verify;
  if (v) {
    const floor = v.natsEcho
      ? `; floor beside it (bare NATS round trip + bare Redis GET): p99 ${f(v.natsEcho.p99, 3)} + ${f(v.redisGet.p99, 3)} ms`
      : '';
    rows.push([
      'Miss via Redis: p50 ≤ 1 ms, p99 ≤ 3 ms',
      `p50 ${f(v.redisHit.p50, 3)} ms, p99 ${f(v.redisHit.p99, 3)} ms${floor}`,
      verdict(v.redisHit.p50 <= 1 && v.redisHit.p99 <= 3),
    ]);
    rows.push([
      'Miss reaching Postgres: p99 ≤ 10 ms',
      `key only: p99 ${f(v.keyMiss.p99, 3)} ms; all entries: p99 ${f(v.allMiss.p99, 3)} ms`,
      verdict(v.keyMiss.p99 <= 10),
    ]);
  }
  const r = s.revocation;
  if (r)
    rows.push([
      `Revocation on 3 replicas: p99 ≤ 250 ms (${r.revocations} revocations)`,
      `p50 ${f(r.p50)} ms, p99 ${f(r.p99)} ms, max ${f(r.max)} ms`,
      verdict(r.p99 <= 250 && r.revocations >= 200),
    ]);
  const l = s.lifecycle;
  if (l) {
    for (const [label, x] of [
      ['Expiry', l.expiry],
      ['Disable', l.disable],
      ['Roll cut-off', l.rollCutOff],
    ]) {
      rows.push([
        `${label} on 3 replicas: p99 ≤ 250 ms (${x.changes} keys)`,
        `p50 ${f(x.p50)} ms, p99 ${f(x.p99)} ms, max ${f(x.max)} ms`,
        verdict(x.p99 <= 250),
      ]);
    }
  }
  const m = s.manyKeys;
  if (m) {
    // Older results have no control rounds: their ratio is to the throughput scenario's single key.
    const single = m.control?.rps ?? s.throughput?.max.ours.rps;
    // Results since paired rounds: the median of each warm round's ratio to the control round beside it.
    const ratio = m.pairedRatios ? median(m.pairedRatios) : single ? m.warm.rps / single : undefined;
    const against = m.pairedRatios
      ? `one key, same generator: median of ${m.pairedRatios.length} paired rounds`
      : m.control
        ? 'one key, same generator'
        : 'one key';
    rows.push([
      `${n(m.keys)} active keys: throughput holds (≥ 0.90× one key), memory bounded`,
      `${n(m.warm.rps)} req/s across all keys${ratio ? ` (${f(ratio)}× ${against})` : ''}; gateway RSS ${m.after.rssMiB.gateway} MiB; ${n(m.warmKeys)} keys warm`,
      verdict(ratio === undefined ? undefined : ratio >= 0.9),
    ]);
    const g = m.gatewayMemory;
    if (g?.rssBytesPerKey !== undefined)
      rows.push([
        'Gateway memory per cached key ≤ 1 KB (RSS growth after a full collection, per 100,000 keys)',
        `${n(g.rssBytesPerKey)} B RSS per key (${n((g.rssBytesPerKey * 100_000) / 2 ** 20)} MiB per 100,000), heap ${n(g.heapBytesPerKey)} B; ${n(g.cachedKeys)} keys cached after a warm-up; peak RSS ${n(g.peakRssBytes / 2 ** 20)} MiB with \`${g.nodeOptions}\``,
        verdict(g.rssBytesPerKey <= 1024),
      ]);
    // Usage publishing's cost follows the flush count, not the keys: NATS spends about what it does for one key.
    const nats = m.cpuMsPer1000 && { warm: m.cpuMsPer1000.warm['nats-server'], control: m.cpuMsPer1000.control['nats-server'] };
    const natsRatio = nats?.warm !== undefined && nats.control > 0 ? nats.warm / nats.control : undefined;
    rows.push([
      `${n(m.keys)} active keys: nats-server CPU per 1,000 requests within 2× of one key`,
      nats ? `${f(nats.warm, 1)} ms vs ${f(nats.control, 1)} ms one key${natsRatio ? ` (${f(natsRatio)}×)` : ''}` : 'not measured',
      verdict(natsRatio === undefined ? undefined : natsRatio <= 2),
    ]);
  }
  const u = s.usage;
  if (u)
    rows.push([
      'Usage events at full throughput, exact totals',
      `${n(u.counted)} counted of ${n(u.forwarded)} forwarded at ${n(u.rps)} req/s`,
      verdict(u.exact),
    ]);
  const k = s.tracker;
  if (k)
    rows.push([
      'Tracker ingestion ≥ 50,000 events/s, exact',
      `${n(k.tracker?.rate)} events/s${k.tracker?.rounds ? `, median of ${k.tracker.rounds.length} rounds` : ''} (${k.tracker?.exact ? 'exact' : 'NOT exact'})`,
      verdict(k.tracker?.rate >= 50_000 && k.tracker?.exact),
    ]);
  const st = s.usageStorage;
  if (st) {
    const { before, after } = st.scaled;
    rows.push([
      `Usage storage, ${n(st.targetKeys)} keys used every minute for a day: bounded after rollup and retention, exact`,
      `${n(before.total.rows)} rows, ${mib(before.total.bytes)} of minute rows → ${n(after.total.rows)} rows, ${mib(after.total.bytes)} (hours and days)`,
      verdict(st.exact && after.total.bytes < before.total.bytes / 10),
    ]);
  }
  rows.push(...rateLimitGoals(s.rateLimit));
  return rows;
}

const mib = (bytes) => (bytes >= 2 ** 30 ? `${f(bytes / 2 ** 30, 1)} GiB` : `${f(bytes / 2 ** 20, 1)} MiB`);

function usageStorageSection(st) {
  const stage = (label, x) => [
    label,
    n(x.minutes.rows),
    mib(x.minutes.bytes),
    n(x.hours.rows),
    mib(x.hours.bytes),
    n(x.days.rows),
    mib(x.days.bytes),
    n(x.total.rows),
    mib(x.total.bytes),
  ];
  const header = ['stage', 'minute rows', 'bytes', 'hour rows', 'bytes', 'day rows', 'bytes', 'all rows', 'all bytes'];
  const perKeyDay = (x) => x.bytes / st.targetKeys;
  const { before, after } = st.scaled;
  return `## Usage storage: ${n(st.targetKeys)} keys × 1 day, before and after rollup and retention

Every key used in every minute of one UTC day (1,440 minute rows per key: the most one active key can write), written
in minute order into the partitioned minute table, then the tracker's own maintenance (its code from dist/, with a
clock moved forward): the day rolled into hour and day rows, and 8 days on, the minute retention
(\`USAGE_MINUTE_RETENTION_DAYS\`=${st.retention.minuteDays}) drops the day's partition. Bytes are \`pg_total_relation_size\` of every partition
with its indexes. Measured with ${n(st.keys)} keys in a database of its own, then scaled to ${n(st.targetKeys)}: each key adds the same rows to
each table (the empty tables' pages counted once). Totals after retention: ${st.exact ? 'hour and day rows sum exactly to the minute rows written' : '**NOT exact**'}.

Scaled to ${n(st.targetKeys)} keys:

${table(header, [stage('minute rows only (before)', before), stage('rolled up, minutes still kept', st.scaled.rolledUp), stage('after retention (day older than the minute retention)', after)])}

Measured with ${n(st.keys)} keys:

${table(header, [stage('minute rows only (before)', st.measured.before), stage('rolled up, minutes still kept', st.measured.rolledUp), stage('after retention', st.measured.after)])}

Per key and day: ${f(perKeyDay(before.minutes) / 1024, 1)} KiB of minute rows, ${f(perKeyDay(after.hours) / 1024, 2)} KiB of hour rows, ${f(perKeyDay(after.days), 0)} bytes of day rows
(minute pages are half filled on purpose: \`fillfactor\` 50 keeps the many updates of a current minute HOT).
Steady state at ${n(st.targetKeys)} keys used every minute, with the default retentions (${st.retention.minuteDays} days of minutes plus
today's, ${st.retention.hourDays} days of hours, days forever): about ${mib(perKeyDay(before.minutes) * st.targetKeys * (st.retention.minuteDays + 1) + perKeyDay(after.hours) * st.targetKeys * st.retention.hourDays)}, plus
${mib(perKeyDay(after.days) * st.targetKeys * 365)} of day rows a year. Rolling the day up took ${f(st.rollupSeconds, 1)} s for ${n(st.keys)} keys
(${n(st.hoursRolled)} hours, one transaction each); writing its minute rows ${f(st.writeSeconds, 1)} s.

Reproduce: \`npm run bench -- --only usage-storage\` (${n(st.keys)} keys; \`--quick\`: 200).
Load average at the end: ${st.loadavg}.
`;
}

function rateLimitGoals(r) {
  if (!r) return [];
  const pct = (ratio) => `${f(ratio * 100, 1)} %`;
  return [
    [
      'Key limited far above the load: throughput ≥ 0.95× an unlimited key',
      `${f(r.ratio, 3)}× (medians: limited ${n(r.medians.limited)}, unlimited ${n(r.medians.unlimited)}, bare proxy ${n(r.medians.bare)} req/s)`,
      verdict(r.ratio >= 0.95),
    ],
    ...r.accuracy.map((a) => [
      `Rate limit ${a.limit.requests}/${a.limit.windowSeconds} s on 3 replicas at 2×: no window over 110 %; none refused at 0.75×`,
      `most forwarded in a window ${pct(a.maxRatio)}; ${n(a.calm.refused)} of ${n(a.calm.sent)} refused at 0.75×`,
      verdict(a.maxRatio <= 1.1 && a.calm.refused === 0 && a.consistent && a.busy.other === 0 && a.calm.other === 0),
    ]),
  ];
}

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function throughputSection(t) {
  const side = (name, m) => [name, n(m.rps), f(m.p50, 3), f(m.p99, 3), m.rounds.map((r) => n(r.rps)).join(', ')];
  return `## Throughput and added latency (chatbot key, warm cache)

\`GET /api/v1/chatbots/{id}/messages\` with \`Authorization: Bearer cbk_…\`, 50 connections, against a
node:http upstream answering 25 bytes at once. Baseline: Fastify + undici \`Pool.request\` + \`pipeline\`,
same pool settings (128 connections, 30 s timeouts), no authentication (scripts/bench/baseline-proxy.mjs).
Rounds alternate baseline/gateway (and which goes first); figures are medians over the rounds.

Maximum (closed loop):

${table(['side', 'req/s', 'p50 ms', 'p99 ms', 'rounds req/s'], [side('baseline', t.max.baseline), side('gateway', t.max.ours)])}

Ratio gateway / baseline: **${f(t.ratio)}×**

At ${n(t.rate)} req/s (70 % of the gateway's maximum; autocannon \`overallRate\`), latency from every response
(not autocannon's whole-millisecond histogram):

${table(['side', 'req/s', 'p50 ms', 'p99 ms', 'rounds req/s'], [side('baseline', t.atRate.baseline), side('gateway', t.atRate.ours)])}

Added by the gateway (its percentile minus the baseline's): p50 **${f(t.added.p50, 3)} ms**, p99 **${f(t.added.p99, 3)} ms**.
${
  t.authOnHit
    ? `
Measured inside the gateway over its rounds at this rate (\`gateway_auth_cache_hit_duration_seconds\`: hashing the
presented key, the cache lookup and the decision, for each of ${n(t.authOnHit.samples)} requests): p50 ≤ ${f(t.authOnHit.p50, 4)} ms,
p99 ≤ ${f(t.authOnHit.p99, 4)} ms, p99.9 ≤ ${f(t.authOnHit['p99.9'], 4)} ms (upper bounds of the histogram buckets the ranks fall in).
This is the time authentication adds to a request with a cached key; the rest of the gateway's work is the relay,
which the baseline does too. The end-to-end difference above carries the scheduling noise of two shared cores.
`
    : ''
}Load average at the end of this scenario: ${t.loadavg}.
`;
}

function verifySection(v) {
  const row = (name, x) => [name, n(x.count), f(x.p50, 3), f(x.p90, 3), f(x.p99, 3), f(x.max, 3)];
  return `## Verify path on a gateway cache miss

One \`auth.verify\` request at a time over NATS (what the gateway sends on a miss), chatbot keys created for
the run (${n(v.samples)} keys; every key once per row). Percentiles from the sorted sample.

${table(
  ['path', 'samples', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
  [
    row('verifier answers from Redis (key, plan, chatbot)', v.redisHit),
    ...(v.natsEcho
      ? [
          row('floor, beside each verify above: bare NATS request-reply (echo, same two server hops)', v.natsEcho),
          row('floor, beside each verify above: bare Redis GET', v.redisGet),
        ]
      : []),
    row('key entry deleted first: key-management reads Postgres', v.keyMiss),
    row('key, plan and chatbot entries deleted: two lookups in a row', v.allMiss),
  ],
)}
${
  v.natsEcho
    ? `
The floor rows take turns with the first row, key by key, so they ran under the same conditions: what a verify
costs beyond them is the verifier's own work. Its path is one NATS request-reply plus one Redis round trip (a Lua
script reading the key, plan and chatbot entries together), so the floor for its p99 is roughly the sum of theirs,
${f(v.natsEcho.p99 + v.redisGet.p99, 3)} ms here, against ${f(v.redisHit.p99, 3)} ms measured.${
        v.verifierOwn
          ? ` Over the same pass the verifier's own
time per request (\`auth_verifier_verify_duration_seconds\`, from the request's arrival to its answer, the Redis round trip
included) was p50 ≤ ${f(v.verifierOwn.p50, 2)} ms, p99 ≤ ${f(v.verifierOwn.p99, 2)} ms (histogram bucket bounds, ${n(v.verifierOwn.samples)} requests): the rest of the
tail is NATS delivery and waking the verifier's process on two shared cores.`
          : ''
      }
`
    : ''
}
Load average at the end of this scenario: ${v.loadavg}.
`;
}

function revocationSection(r) {
  return `## Revocation across 3 gateway replicas

${n(r.revocations)} chatbot keys, each cached on all 3 replicas first (one request each). One key at a time:
\`DELETE /v1/chatbots/{id}/api-keys/{keyId}\` on replica 1; from its answer, every replica is polled in a tight
loop (keep-alive connection, a loopback address per key so the invalid-key brake never answers instead) until
it answers 401. Figure per revocation: the slowest replica.

${table(['revocations', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'refused at the first poll on all 3'], [[n(r.revocations), f(r.p50), f(r.p90), f(r.p99), f(r.max), n(r.refusedAtFirstPoll)]])}

Load average at the end of this scenario: ${r.loadavg}.
`;
}

function lifecycleSection(l) {
  const row = (label, x) => [label, n(x.changes), f(x.p50), f(x.p90), f(x.p99), f(x.max), n(x.refusedAtFirstPoll)];
  return `## Lifecycle changes across 3 gateway replicas

Measured like revocation: each key cached on all 3 replicas first, then one change at a time, every replica
polled until it answers 401; the figure per key is the slowest replica, from the instant the change takes
effect: a key's \`expiresAt\` (set at creation; no event, the caches' own bound), the answer to
\`PATCH {"enabled":false}\`, and for a roll with \`gracePeriodSeconds: 2\` the old key's cut-off as the listing
shows it (its \`expiresAt\`).

${table(['change', 'keys', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'refused at the first poll on all 3'], [row('expiry', l.expiry), row('disable', l.disable), row('roll cut-off', l.rollCutOff)])}

Load average at the end of this scenario: ${l.loadavg}.
`;
}

function manyKeysSection(m) {
  const memoryRow = (name, x) => [
    name,
    `${x.rssMiB.gateway} / ${x.rssMiB['auth-verifier']} / ${x.rssMiB['key-management']}`,
    Object.entries(x.gatewayEntries)
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(', '),
    `${Object.entries(x.redisKeys)
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(', ')} (${x.redisUsedMiB} MiB used by the whole Redis)`,
  ];
  return `## ${n(m.keys)} active keys

${n(m.viaBus)} created over key-management's bus API (\`keys.admin.chatbot.create\`, \`keys.manage.key.create\`: hash
and prefix only) at ${n(m.busRate)} keys/s; one at a time that way 100,000 would take most of the run, so the other
${n(m.keys - m.viaBus)} are written in batches straight into key-management's tables (the same rows, hash and prefix only,
ten per chatbot) in ${f(m.createSeconds, 1)} s. Then requests cycle through every key, each on its own chatbot's route,
sent to a gateway replica started for this scenario with \`AUTH_CACHE_TTL_MS=600000\` (default 30 s): the cold pass
takes longer than 30 s here, and the warm pass is meant to find every key it reached still cached.

${table(
  ['pass', 'requests', 'req/s', 'p50 ms', 'p99 ms'],
  [
    [
      'cold: each key once (gateway miss, verifier miss → key-management → Postgres)',
      n(m.cold.ok),
      n(m.cold.rps),
      f(m.cold.latency.p50, 3),
      f(m.cold.latency.p99, 3),
    ],
    [
      `warm: ${n(m.warmKeys)} keys in turn from the gateway cache${m.warmKeys < m.keys ? ' (the keys the time-limited cold pass reached)' : ''}`,
      n(m.warm.ok),
      n(m.warm.rps),
      f(m.warm.latency.p50, 3),
      f(m.warm.latency.p99, 3),
    ],
    ...(m.control
      ? [
          [
            'control: one of those keys, as many targets, same generator',
            n(m.control.ok),
            n(m.control.rps),
            f(m.control.latency.p50, 3),
            f(m.control.latency.p99, 3),
          ],
        ]
      : []),
  ],
)}
${
  m.control
    ? `
Warm and control alternate (${m.warm.rounds.length} rounds each, ${m.roundSeconds} s); the table shows each side's median round
(warm ${m.warm.rounds.map(n).join(', ')}; control ${m.control.rounds.map(n).join(', ')} req/s). The control cycles through
as many targets as the warm pass, all of them one key: autocannon rebuilds every request when it cycles targets,
which costs the load generator (on the same two cores) throughput that the single-key scenario does not pay.
${
  m.pairedRatios
    ? `Ratio warm / control, each warm round against the control round run beside it (the machine's speed drifts
between rounds; a pair shares its moment): ${m.pairedRatios.map((x) => f(x)).join(', ')}, median **${f(median(m.pairedRatios))}×**
(the ratio of the two sides' median rounds: ${f(m.warm.rps / m.control.rps)}×).`
    : `Ratio warm / control: **${f(m.warm.rps / m.control.rps)}×**.`
}
`
    : ''
}${m.cpuMsPer1000 ? cpuTable(m.cpuMsPer1000) : ''}${m.trackerStopped ? trackerStoppedSection(m.trackerStopped) : ''}${m.profiles ? manyKeysProfiles(m.profiles) : ''}

Memory (RSS MiB, with V8 heap used, of gateway / auth-verifier / key-management; gateway entries from \`gateway_auth_memory_entries\`; Redis keys under the run's prefix):

${table(['when', 'RSS MiB', 'gateway in-memory entries', 'Redis'], [memoryRow(m.gatewayMemory ? 'after creating the keys and a warm-up of 1,000 other keys' : 'after creating the keys', m.before), memoryRow('after the passes', m.after)])}

${
  m.gatewayMemory?.rssBytesPerKey !== undefined
    ? `Gateway per cached key, both readings taken after a full collection (inspector \`HeapProfiler.collectGarbage\`) on a
gateway started with the deployed \`${m.gatewayMemory.nodeOptions}\` (k8s/base/gateway.yaml): ${n(m.gatewayMemory.rssBytesPerKey)} B of RSS,
${n(m.gatewayMemory.heapBytesPerKey)} B of V8 heap (${n(m.gatewayMemory.cachedKeys)} keys cached between the readings; the first reading follows a
warm-up of 1,000 other keys, so what the process sets up once is not charged to the keys); its RSS peaked at ${n(m.gatewayMemory.peakRssBytes / 2 ** 20)} MiB during the run.
In-process figures for the cache alone: \`node scripts/bench/verify-cache-memory.mjs\`.

`
    : ''
}Bounds: the gateway's verify cache holds at most \`AUTH_CACHE_MAX_ENTRIES\` (default 100,000) valid answers and a
tenth of that of refusals (LRU, TTL 30 s / 5 s); its change log and revoked-key memory at most 100,000 entries each;
the invalid-key brake 10,000 client addresses; the usage publisher \`maxPendingEntries\` (100,000 counts of a key and minute). The verifier's
Redis entries expire (60 s, refusals 10 s) and its in-memory change log is bounded by \`AUTH_VERIFIER_MEMORY_MAX_ENTRIES\`.
Load average at the end of this scenario: ${m.loadavg}.
`;
}

/** CPU per 1,000 requests by process group, warm (every key in turn) against control (one key). */
function cpuTable({ warm, control }) {
  const groups = [...new Set([...Object.keys(warm), ...Object.keys(control)])].sort((a, b) => (warm[b] ?? 0) - (warm[a] ?? 0));
  const total = (side) => Object.values(side).reduce((sum, value) => sum + value, 0);
  const rows = groups.map((group) => [group, f(warm[group], 1), f(control[group], 1), f((warm[group] ?? 0) - (control[group] ?? 0), 1)]);
  rows.push(['**all**', f(total(warm), 1), f(total(control), 1), f(total(warm) - total(control), 1)]);
  return `
CPU milliseconds per 1,000 answered requests, by process (from /proc, over each side's rounds):

${table(['process', 'warm, every key in turn', 'control, one key', 'difference'], rows)}
`;
}

function usageSection(u, k) {
  let text = '## Usage events\n\n';
  if (u) {
    text += `${n(u.requests)} requests through the gateway at full speed (autocannon \`amount\`: every request answered)
over 20 fresh chatbot keys. The upstream counts what it received per \`X-Api-Key-Id\`; the usage tracker's totals
(\`usage.key_usage_minutes\`) must reach exactly that.

${table(['answered 200', 'req/s', 'received by the upstream', 'usage total', 'exact', 'settled after'], [[n(u.answered200), n(u.rps), n(u.forwarded), n(u.counted), u.exact ? 'yes' : 'NO', `${f(u.settledSeconds)} s`]])}

Load average at the end: ${u.loadavg}.
`;
  }
  if (k) {
    text += `
Tracker ingestion, \`${k.command}\` (run by the bench as it is): phase 1 stores N single-use
\`key.used\` messages over 1,000 keys, then starts ${k.tracker?.replicas ?? 1} tracker process(es) (batch ${n(k.tracker?.batch ?? 1000)}); from
the moment they are ready, the clock runs until the database total is exactly N, and the rate counts the messages
applied in that time. Phase 1 runs ${k.tracker?.rounds?.length ?? 1} time(s), each round in a stream and key range of its own; the
goal row reads the median round. Phase 2 records uses through the gateway's UsagePublisher and waits for the exact
total.

${table(
  ['phase', 'events', 'counted', 'exact', 'seconds', 'events/s'],
  [
    ...(k.tracker?.rounds ?? [k.tracker]).map((r, i, all) => [
      all.length > 1 ? `tracker ingestion, round ${i + 1}` : 'tracker ingestion',
      n(k.tracker?.messages),
      n(r?.total),
      r?.exact ? 'yes' : 'NO',
      f(r?.seconds),
      n(r?.rate),
    ]),
    [
      'publisher → stream → tracker',
      n(k.endToEnd?.uses),
      n(k.endToEnd?.total),
      k.endToEnd?.exact ? 'yes' : 'NO',
      f(k.endToEnd?.seconds),
      n(k.endToEnd?.rate),
    ],
  ],
)}

Load average at the end: ${k.loadavg}.
`;
  }
  return text;
}

function redisMemorySection(r) {
  return `## Redis memory per active key

${n(r.keys)} keys (${n(r.chatbots)} chatbots, ${n(r.accounts)} accounts), written through the services' own code into a Redis server
of the bench's own (\`used_memory\` before and after; scripts/bench/redis-memory.mjs). Load average at the end: ${r.loadavg}.

${table(
  ['what Redis holds', `for ${n(r.keys)} keys`, 'per key'],
  [
    ['auth-verifier cache: key records, chatbot owners, plans', `${f(r.cacheMiB, 1)} MiB`, `${n(r.cacheBytesPerKey)} B`],
    [
      `rate-limit counts: one window of a limited key, ${r.replicas} gateway replicas`,
      `${f(r.rateLimitMiB, 1)} MiB`,
      `${n(r.rateLimitBytesPerKey)} B`,
    ],
  ],
)}

A cache entry lives for the verifier's TTL after its last fill; a rate-limit window's hash lives until a minute past the window's
end, so a key limited per minute holds up to two or three windows at once, a key limited per day one.
`;
}

function rateLimitSection(r) {
  const pct = (ratio) => `${f(ratio * 100, 1)} %`;
  const roundRows = r.rounds.bare.map((_, i) => [String(i + 1), n(r.rounds.bare[i]), n(r.rounds.unlimited[i]), n(r.rounds.limited[i])]);
  roundRows.push(['median', n(r.medians.bare), n(r.medians.unlimited), `${n(r.medians.limited)} (**${f(r.ratio, 3)}×** unlimited)`]);
  const accuracyRows = r.accuracy.map((a) => [
    `${n(a.limit.requests)} per ${a.limit.windowSeconds} s`,
    `${n(a.busy.sent)} sent, ${n(a.busy.forwarded)} forwarded, ${n(a.busy.refused)} refused`,
    a.perWindow.map(n).join(', '),
    `**${pct(a.maxRatio)}**`,
    `${n(a.calm.refused)} of ${n(a.calm.sent)}`,
    a.consistent && a.busy.other + a.calm.other === 0 ? 'yes' : 'NO',
  ]);
  const simRows = r.simulated.map((x) => [`${n(x.limit.requests)}/s`, x.condition, x.variant, pct(x.max), pct(x.min), n(x.calmRefused)]);
  return `## Per-key rate limits

Throughput: \`GET /api/v1/chatbots/{id}/messages\`, 50 connections, the bare proxy, the gateway with an unlimited
chatbot key and with a key limited to 1,000,000 requests per second (far above the load, so every request is
decided and forwarded), in alternating rounds (the order alternates too); req/s per round:

${table(['round', 'bare proxy', 'unlimited key', 'limited key'], roundRows)}

Accuracy: 3 gateway processes (the run's gateway and two more) sharing the run's Redis. One key driven at twice its
limit, another at 0.75× of it, at the same time, each request sent without waiting for the others (as independent
clients do), round-robin over the three. What each window forwarded is read from the gateways' shared counts in
Redis, and their sum must equal the 200 answers the client got ("consistent").

${table(['limit', 'the key at 2×', 'forwarded per window', 'most in a window', 'refused at 0.75×', 'consistent'], accuracyRows)}

### The algorithm, and why this one

Each gateway decides in memory; no request waits on the network (except the first of a key a gateway has not
counted recently: one Redis read, so a restarted gateway continues the window). Windows are fixed and aligned to the
epoch, so all replicas agree where one starts and \`RateLimit: t=\` is its end. Per limited key a gateway keeps
\`own\` (what it forwarded in the window), \`others\` (what the others had forwarded at the last sync), their rate
between the last two syncs, and how many replicas are deciding requests with the key. Every 50 ms
(\`RATE_LIMIT_SYNC_MS\`) one pipelined round trip writes each active key's \`own\` as that gateway's field of a
per-window Redis hash (absolute, so a retried sync never counts twice, and a dead gateway's part stays) and reads
the sum and the number of gateways that reported requests with the key in the last second. A request is forwarded
while

- \`own + others + predicted + 1 ≤ limit\`, where \`predicted\` is the others' recent rate times the age of the view
  (capped at 150 ms): steady load across replicas is then nearly exact, where the last synced total alone lets
  every replica overshoot by what the others forwarded since;
- and this gateway has forwarded since its last sync no more than its share of what that sync left:
  \`(limit − count at the sync − unseen) / gateways deciding requests with the key\` (split exactly: the odd
  requests go to the gateways ranked first), where \`unseen\`, what the others may have forwarded since they last
  reported, is their predicted admissions or, when that says less, as many each as this gateway forwarded in its
  last sync interval. Replicas that
  cannot see each other's latest admissions cannot all spend the same remainder, even when a burst reaches all of
  them at once. A client whose requests are spread over the gateways stays within each one's share while it is
  under the limit, so it is not refused by this rule; a gateway that stopped serving the key (a restarted one's
  predecessor) no longer counts after a second;
- and the view is at most 3 sync intervals old while Redis answers: a gateway whose process stood still (a long
  garbage collection, a starved CPU) has requests queued when it resumes; they wait for the sync its timer sends
  first (and, if that one only brings back an answer from before the stall, one more) instead of being decided on
  what it knew before. Views are dated when their sync left, not when the answer was read.

The simulation below (3 replicas, 20 s, \`replica-simulation.ts\`: the real limiter on a simulated clock with a store
round trip, processes that stall and a bursty client) is why: the last synced total alone overshoots by the
others' unseen admissions (7 % steady, 15–20 % with stalls or bursts); predicting them fixes steady load but not
stalls or bursts; the shares and the fresh view keep every case within a few percent, without refusing the client
at 79 %.

${table(['limit', 'condition', 'variant', 'most per window', 'least per full window', 'refused at 0.79×'], simRows)}

A sliding-window estimate or GCRA would smooth the burst a fixed window allows at its start, but neither reconciles
as simply from per-replica counts, and the contract's \`t\` (seconds until reset) describes a fixed window. A token
bucket shared through Redis needs a round trip per request to be exact.

### Error bound

- **Under 80 % never refused**: the estimate is the count at the last sync plus at most 150 ms of the others'
  recent rate, so it reaches the limit for a client under 80 % only if, right after going faster, it sends more
  than a fifth of its limit within those 150 ms; and a gateway's share is a third (with 3 serving the key) of what
  is left, at least a fifth of the limit under 80 %, so the share refuses such a client only if it sends more than
  that through one gateway within one sync interval. Both are bursts far above the limit's rate.
- **At most 110 %**: each gateway spends between syncs at most its share of the remainder the last sync showed, so
  together they spend it about once (more only when one syncs again before the others' admissions are recorded);
  the prediction and the fresh-view rule keep what is seen late small. For 3 replicas at 2× a 1 s limit of 100
  that is within a few percent (measured above); for windows of a minute to a day it is a fraction of a request
  per second of load. Limits below about 20 requests per window cannot be held to 10 % across replicas (one
  request is 5 %).
- **A cold key**: replicas learn of each other through their syncs; requests reaching every replica in the same
  instant before any has counted the key (its first burst, or the first after ten idle seconds) are admitted by
  each as if alone, up to R× the limit in that one window. A replica remembers for ten seconds how many shared a
  key, so a client that pauses and bursts again is shared as before.
- **Window edges**: in any 2 × window span straddling a reset a client can get up to twice its limit, as with every
  fixed-window limiter.
- **Redis down**: every gateway limits on its own (each up to the whole limit, from the count it last saw): with R
  replicas up to R× the limit in aggregate; nothing is refused because Redis is down, and no request waits for it.
  NATS down: the counts do not travel over NATS; keys a gateway caches stay limited as before.
- Clocks: windows come from each gateway's clock; replicas are expected to be NTP-synced.

Load average at the end of this scenario: ${r.loadavg}.
`;
}

/** The pair of rounds run with the usage-tracker stopped: what the gap is made of. */
function trackerStoppedSection(t) {
  const groups = ['gateway', 'nats-server', 'usage-tracker', 'postgres'];
  return `

One more warm and one more control round with the usage-tracker stopped (SIGSTOP; usage is published
and kept in the stream, then counted when it resumes): warm ${n(t.rps.warm)}, control ${n(t.rps.control)} req/s,
**${f(t.rps.warm / t.rps.control)}×**. CPU ms per 1,000 requests, warm / control: ${groups
    .map((group) => `${group} ${f(t.cpu.warm[group] ?? 0, 1)} / ${f(t.cpu.control[group] ?? 0, 1)}`)
    .join('; ')}. What the warm rounds above pay beyond the control is the usage of every key written as a
row of its own (tracker and PostgreSQL), and what that work takes from the other processes on the same cores.`;
}

/** The gateway's heaviest functions in a profiled warm round beside a profiled control round (bench --profile). */
function manyKeysProfiles(profiles) {
  const side = (summary) => new Map(summary.functions.map((x) => [x.name.trim(), x.percent]));
  const warm = side(profiles.warm);
  const control = side(profiles.control);
  const names = [...new Set([...warm.keys(), ...control.keys()])].sort((a, b) => (warm.get(b) ?? 0) - (warm.get(a) ?? 0)).slice(0, 20);
  const cell = (map, name) => (map.has(name) ? f(map.get(name), 1) : '< ' + f(Math.min(...map.values()), 1));
  return `

The gateway's CPU profile over one more round of each side (inspector \`Profiler\`, not counted above): self time,
heaviest in the warm round first (${n(profiles.warm.samples)} and ${n(profiles.control.samples)} samples).

${table(
  ['function', '% warm', '% control'],
  names.map((name) => [`\`${name}\``, cell(warm, name), cell(control, name)]),
)}`;
}

function profileSection(p) {
  if (!p?.functions) return '';
  const rows = (list) => list.map((x) => [f(x.percent, 1), `\`${x.name.trim()}\``]);
  return `## Profile of a gateway under full load

One more gateway replica started with \`--cpu-prof\`, driven like the throughput scenario (${n(p.rps)} req/s while
profiled); self time over the load window only (${n(p.samples)} samples), start-up and shutdown excluded.

By package:

${table(['% self', 'package'], rows(p.packages.slice(0, 12)))}

Heaviest functions:

${table(['% self', 'function'], rows(p.functions.slice(0, 20)))}

Load average at the end: ${p.loadavg}.
`;
}

const NOTES = `## What the profile showed, and what changed

The first profile of a gateway under full load (same scenario, before these changes; quick rounds with the
machine at load average ≈ 5) had the gateway at **0.55×** the baseline (2,327 / 2,228 / 2,550 req/s against
3,667 / 4,244 / 4,929) and, among the self-time leaders, \`DOMException\` (3.5 %), \`abortSignal\` and
\`createAbortSignal\` (2.9 %): Node's \`stream.pipeline\` makes an AbortController per call and aborts it when the
pipeline finishes, building a DOMException every request; the relay added an AbortController of its own for
"client went away". Then \`connectionListed\` (1.4 %: splitting \`Connection: keep-alive\` of every message into a
Set), prom-client label hashing and \`normaliseApiPath\`. Changes (apps/gateway/src):

- **Relay** (data-plane/upstream-client.ts): \`Pool.dispatch\` with a handler that writes the upstream's head and
  chunks straight into the client's response (pause/resume for backpressure; a client leaving aborts through the
  dispatch controller). No body stream, no pipeline, no AbortController per request.
- **Cache hit without a promise** (auth/key-authenticator.ts \`fromCache\`): the warm path is synchronous; the key
  is not classified again (CRC32 checksum) on a hit, since only well-formed keys are ever cached; SHA-256 through
  the one-shot \`crypto.hash\` (auth/key-hash.ts) instead of a Hash object per request.
- **Path normalisation** (data-plane/api-path.ts): one regular-expression scan decides that a path has nothing to
  normalise (no \`%\`, \`\\\`, \`#\`, \`//\`, \`/.\`), which is every ordinary request; the full work runs otherwise.
- **Headers** (data-plane/forwarded-headers.ts): \`Connection: keep-alive\` / \`close\` recognised without splitting.
- **Metrics**: labelled prom-client children bound once (auth cache lookups, upstream failures, the new request
  metrics); the usage publisher adds its recorded-uses count and refreshes its gauges once per flush (50 ms)
  instead of three prom-client calls per request.
- **Request metrics** (data-plane/request-metrics.ts): \`gateway_data_plane_requests_total{route,status}\`
  (route class chatbot | chat | account | unrouted) and \`gateway_data_plane_request_duration_seconds{route}\`
  (arrival to the answer's head), through pre-bound children: two Map lookups, one increment, one observe.
  In-memory structure sizes are reported as \`gateway_auth_memory_entries{structure}\`, read only on scrape.

Already as asked, checked in the profile: bodies are read and parsed only on routes whose chatbot id is in the
body; the data plane has no per-request logging (Fastify's logger is off and the route is not a Nest controller);
the upstream pool has 128 connections (\`UPSTREAM_CONNECTIONS\`), more than the 50 client connections, so requests
never queue for one; nothing synchronous beyond one SHA-256 of 42 bytes per request.

After the changes the profiled gateway spends most of its CPU in socket writes (\`writev\`, \`writeLatin1String\`:
the response and the forwarded request) and sits idle a large share of the time: on this 2-core machine the load
generator, the upstream and the gateway share two cores (with other work running), so the gateway is no longer what
limits the rate. Remaining, not on a file of this change: the gateway-wide \`onRequest\` hook in gateway.ts is
\`async\` (a promise per request) and sets X-Request-Id that the relay sets again on data-plane answers.

### Reading the latency goals on this machine

"Added latency" end to end is the gateway's percentile minus the baseline's, both at the same fixed rate in
alternating rounds of the same run. The load generator, the upstream, the baseline or the gateway, NATS, Redis and
PostgreSQL all share two cores: at a rate of a few thousand requests per second even the bare baseline shows a p50
of several milliseconds (see its row), which is time spent waiting for a core, not proxying. The p50 difference
isolates the gateway's own work; the p99 difference mostly measures which side a burst of scheduling delay happened
to hit. So the gateway also times authentication itself on every cache hit
(\`gateway_auth_cache_hit_duration_seconds\`: hashing the presented key, the lookup, the decision; synchronous, no
I/O), and the Goals table judges the cache-hit goal by that histogram over the 70 % rounds, with the end-to-end
difference beside it. The one-at-a-time verify figures have the same shape: their p50 is the round trip, their tail
is scheduling.

What the verify path costs by construction (apps/auth-verifier/src/verify): for a chatbot key, two NATS hops
(gateway → verifier → gateway) and one Redis round trip: a Lua script reads the key record, the plan of the account
it names and the target chatbot's entry together (a user-level key: the record and the chatbot entry). Only an entry
it did not find costs more: one key-management request (NATS both ways, one indexed Postgres read) per missing
entry, two in a row when the key and then the plan are missing. Measured in one process against the local Redis,
5,000 fully cached verifies, three alternating rounds: median 0.24 ms with two round trips, 0.18 ms with one.

### 100,000 keys: where the throughput goes

Until usage batches, the usage publisher merged the uses of a 50 ms flush per key into one \`key.used\` message
each: with one key that is one message per flush, but with every key in turn each request became a message of its
own (publish with ack, stored, delivered, acked, deleted). The full run of 2026-11-27 02:27 measured what that cost:
warm 0.58× the control, and per 1,000 requests nats-server 54.8 ms against 5.3 with one key (gateway +66 ms, where a
profile found 17 % of its CPU in the publisher's flush; tracker +14; PostgreSQL +11). Now the gateway seals every count
of a flush into \`key.used.batch\` messages of up to 1,000 entries (tuples of key, chatbot, time, uses and refusals,
the chatbot null since 2026-12-01, as the tracker never stored it: about 65 bytes each with a UUID id, 100 before), so the messages per second follow the flush rate whatever the number of keys; what still grows with the
keys is the bytes (on a private nats-server, about 0.07 ms a message plus 8 ns a byte in an earlier measurement; 20–30 ns a byte with the usage stream's configuration and an acking consumer in the one below), the tracker's per-entry
parsing and one minute row per key in PostgreSQL.

The pair of rounds with the usage-tracker stopped shows where the rest of the gap is: without the tracker and
PostgreSQL at work, warm and control run at nearly the same rate and the gateway spends within 0–6 % of the same CPU
per request with 100,000 keys as with one (three runs on 2026-12-01/02: 179.8 vs 180.6, 207.7 vs 207.2, 145.6 vs
137.7 ms per 1,000 requests; 1.04×, 1.00×, 0.95×). With every key
used every 15 seconds or so, as here, each request is a minute row of its own: inserted at the key's first use in a
minute, updated in place (HOT, fillfactor 50) after that, about 8 to 9 ms of PostgreSQL backend CPU per 1,000 rows
(measured alone, 100,000 keys over 5 minutes; fillfactor 100 costs 14.7 ms, 75 costs 11.2), and on two shared cores
that work also slows every other process. Key ids compare byte by byte (\`COLLATE "C"\`, since 2026-12-01): 10 % less
per row than the C.UTF-8 locale here, 30 % less than an ICU en-US one. Measured alone, writing each use to an
unindexed log table and folding it into the minute rows once a minute costs as much when the fold deletes what it
moves (\`DELETE … RETURNING\`, safe with two replicas: 2.7 + 4.7 against 7.6 ms per 1,000 uses) and about 40 % less
only when it truncates instead (2.3 + 2.3), which needs two log tables taken in turn and every read and the rollup
looking at both; not done. NatsBus connects with \`noAsyncTraces\`: nats.js otherwise builds an Error per request
and JetStream publish. The CPU table counts only the run's own processes (this checkout's services, the run
database's backends, the servers on the run's ports), so other work on a shared machine stays out of it; run with a
NATS server of its own (\`NATS_URL\`) to measure nats-server alone. Memory stays within the configured bounds.

Where the remaining difference goes, measured on 2026-12-02 (two \`--only many-keys\` runs with 7 rounds and a
nats-server of their own with its monitoring port, then the full run above):
- **Messages**: both sides exchange the same messages per second on every connection (the gateway publishes 18–19
  batches a second and the tracker acks as many, read from nats-server's \`/connz\` each second); only the bytes
  differ (230–310 KB/s in and out with every key in turn, 2–10 KB/s with one). On a private nats-server with the
  stream's configuration, 20 batches a second of 230 entries (14.7 KB) cost 5–9 ms/s more than batches of one entry
  with an acking consumer (about 20–30 ns a byte stored and delivered), 15–19 ms/s more with the messages left unacked.
- **PostgreSQL**, per process over the rounds: the tracker's two backends 9.0 + 3.6 ms per 1,000 requests with every
  key in turn against 2.6 + 0.8 with one; checkpointer, WAL writer and background writer the same on both sides;
  no autovacuum ran during the rounds. It is the row writes themselves.
- **Tracker**: batches like the gateway's published straight to a tracker at 20 a second (230 random keys against one)
  cost it 12–19 ms of CPU a second more, about 3 µs an entry; its main thread's profile puts about 1 µs of that in
  JavaScript (parsing, dedup, aggregation, array literals), the rest outside it (sockets, garbage collection threads).
- Measured alone and not done: key ids as PostgreSQL \`uuid\` instead of text (they are UUIDs) cost 4 % less CPU per
  row write and 28 % less space (120.5 against 167.7 MiB for 100,000 keys × 6 minutes of row writes), but changing
  the column rewrites every usage table in one locked migration.

### Tracker ingestion: where the time goes

One tracker process on this 2-core machine, \`node scripts/bench-usage.mjs --messages 600000 --rounds 1 --uses 1000
--profile DIR\` with CPU read per process (\`top\`) while it consumed: the tracker at about 0.8 core, nats-server 0.65,
PostgreSQL 0.1. The tracker's profile (share of its busy time): NATS protocol parsing and dispatch ≈ 20 %, JSON and
zod ≈ 16 %, garbage collection 16 %, one ack per message ≈ 9 % with its socket writes, reading the stream sequence
4 %; idle ≈ 14 % of the wall time. Batches commit one at a time: a batch of 4,000 (about 1,000 minute rows here)
takes 7–65 ms in PostgreSQL plus the wait for the event loop, which meanwhile parses the next messages.

What moved it past the goal: \`JsMsg.seq\` made nats.js split each message's ack subject and build a delivery-info
object that stayed on the message while its batch waited (thousands at a time, so they outlived the young
generation). The tracker reads the sequence from the subject in one pass instead (\`ack-subject.ts\`): 48,700–68,500
→ 58,500–72,900 messages/s in alternating runs of one sitting (before this, 35,000–38,000 under a loaded machine).
Tried and not kept, no difference beyond the spread between rounds: limits retention instead of the work queue
(nats-server's delete per ack), a larger young generation (\`--max-semi-space-size\` 32/64), batches of 8,000 or
10,000, max_ack_pending 40,000 or 64,000, holding only ack subjects instead of messages. zod 4 costs about 0.6 µs a
message, so it stays. Since the run above, a redelivered copy of a message still waiting for a batch takes its place (the waiting
messages are a Map by stream sequence instead of two arrays): before, a database slower than the ack wait let the
copies pile up (4,800 held after 4 s with max_ack_pending 1,000 in the spec that now guards it). The Map costs about
0.1 µs a message in isolation; alternating bench-usage runs on a busier machine: 51,314 and 49,018 events/s before,
48,963 and 47,754 after, within the spread of their rounds (38,785–63,320). Per-message acks are required: replicas share the consumer, and an ack-all would settle another
replica's unwritten messages. A message may carry many uses (\`count\`): through the gateway's publisher, which merges
uses per key and flush, the same tracker's rate in uses is the last row of the table.

Reproduce: \`npm run bench\` (15 to 25 minutes, depending on the machine's load; \`--quick\` for a smoke run, \`--only throughput,verify,revocation,usage,many-keys,redis-memory\`
for some scenarios, \`--profile\` to add the profile to a partial run). Raw figures of the last run: BENCHMARKS.json.
`;

export function writeReport(out, report) {
  writeFileSync(out.replace(/\.md$/, '.json'), `${JSON.stringify(report, null, 2)}\n`);
  const s = report.scenarios;
  const sections = [
    `# Benchmarks

Written by \`${report.command}\` on ${report.started.slice(0, 16).replace('T', ' ')} UTC${report.quick ? ' (**--quick**: short rounds, fewer keys; a smoke run, not the reference figures)' : ''}.
Machine: ${report.machine.cpus} × ${report.machine.model}, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}; PostgreSQL, Redis and
NATS on the same machine; load generator autocannon in the bench process. Load average at the start: ${report.loadavgStart}
(other work on the machine shows in every figure; each section gives the load average when it ended).
${report.failure ? `\n**The run failed:** ${report.failure}\n` : ''}
## Goals

${table(['goal', 'measured', 'verdict'], goals(s))}
${(report.notes ?? []).map((note) => `\n${note}\n`).join('')}`,
    s.throughput && throughputSection(s.throughput),
    s.verify && verifySection(s.verify),
    s.revocation && revocationSection(s.revocation),
    s.lifecycle && lifecycleSection(s.lifecycle),
    s.manyKeys && manyKeysSection(s.manyKeys),
    (s.usage || s.tracker) && usageSection(s.usage, s.tracker),
    s.redisMemory && redisMemorySection(s.redisMemory),
    s.usageStorage && usageStorageSection(s.usageStorage),
    s.rateLimit && rateLimitSection(s.rateLimit),
    profileSection(s.profile),
    NOTES,
  ];
  writeFileSync(out, `${sections.filter(Boolean).join('\n')}\n`);
}
