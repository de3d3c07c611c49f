// Usage ingestion benchmark: how fast the usage-tracker turns key.used messages into
// exact per-key totals. Runs against the build (`npm run build` first) and the services
// named by DATABASE_URL / NATS_URL (defaults: this machine's), in a namespace of its own
// (subject prefix, stream and database), removed afterwards.
//
//   node scripts/bench-usage.mjs [--messages 300000] [--rounds 3] [--keys 1000] [--replicas 1] [--batch USAGE_BATCH_SIZE] [--uses 1000000]
//
// Phase 1 (tracker): N single-use messages are stored in the stream first, then the
// tracker replicas start (each a process of its own) and, from the moment all are ready,
// the clock runs until the database total is exactly N; the rate counts the messages
// applied in that time. It runs `--rounds` times, each in a stream of its own, and reports the
// median round. `--profile DIR` writes each replica's CPU profile there.
// Phase 2 (end to end): the gateway's UsagePublisher records U uses as fast as the loop
// can; the clock runs until the database total is exactly U (uses coalesce per key/minute).
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { freePort, waitUntilReady } from './system.mjs';
import { scrape } from './bench/system.mjs';
import { stopChild } from './bench/processes.mjs';
import { median } from './bench/stats.mjs';

const dist = new URL('../dist/', import.meta.url);
const load = (path) => import(new URL(path, dist).href);
const { createLogger, NatsBus, ensureUsageStream, usageStreamNames } = await load('libs/common/src/index.js');
const { migrateUsageTracker } = await load('apps/usage-tracker/src/database/migrate.js');
const { loadUsageTrackerConfig } = await load('apps/usage-tracker/src/config.js');
const { UsagePublisher, DEFAULT_USAGE_PUBLISHER_OPTIONS } = await load('apps/gateway/src/usage/usage-publisher.js');
const { usesUndelivered } = await load('apps/gateway/src/usage/usage-metrics.js');

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '300000' },
    keys: { type: 'string', default: '1000' },
    replicas: { type: 'string', default: '1' },
    batch: { type: 'string' },
    profile: { type: 'string' },
    uses: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
  },
});
const N = Number(args.messages);
const KEYS = Number(args.keys);
const REPLICAS = Number(args.replicas);
const USES = Number(args.uses);
const ROUNDS = Number(args.rounds);
// The tracker's own default unless --batch says otherwise.
const BATCH = args.batch ?? String(loadUsageTrackerConfig({}).ingest.batchSize);
const natsUrl = process.env.NATS_URL || 'nats://127.0.0.1:4222';
const runId = `bench${Date.now().toString(36)}`;
const databaseUrl = (() => {
  const url = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/chatbot_keys');
  url.pathname = `/${runId}`;
  return url.toString();
})();
const logger = createLogger('bench-usage', process.env.LOG_LEVEL || 'warn');
const log = (line) => process.stdout.write(`${line}\n`);

async function total(client, likePrefix) {
  const result = await client.query(`SELECT coalesce(sum(count), 0)::text AS n FROM usage.key_usage_minutes WHERE key_id LIKE $1`, [
    `${likePrefix}%`,
  ]);
  return Number(result.rows[0].n);
}

async function until(client, likePrefix, expected, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < deadline) {
    seen = await total(client, likePrefix);
    if (seen >= expected) return seen;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return seen;
}

/** Tracker processes not yet stopped: killed if the bench ends early (a failed phase, an exception). */
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Each tracker replica is a process of its own, as deployed: replicas do not share an event loop. */
async function startTrackers(prefix) {
  const trackers = [];
  for (let i = 0; i < REPLICAS; i++) {
    const port = await freePort();
    const env = {
      ...process.env,
      NATS_URL: natsUrl,
      NATS_SUBJECT_PREFIX: prefix,
      DATABASE_URL: databaseUrl,
      USAGE_TRACKER_HTTP_PORT: String(port),
      USAGE_BATCH_SIZE: BATCH,
      LOG_LEVEL: 'warn',
    };
    const child = spawn(process.execPath, [...execArgv(i), new URL('apps/usage-tracker/src/main.js', dist).pathname], {
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    running.add(child);
    trackers.push({ child, url: `http://127.0.0.1:${port}` });
    await waitUntilReady(`http://127.0.0.1:${port}/health/ready`, child, 30_000);
  }
  return trackers;
}

/** `--profile DIR`: each replica writes a CPU profile there when it stops. */
function execArgv(replica) {
  return args.profile
    ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`, `--cpu-prof-name=tracker-${replica}-${Date.now()}.cpuprofile`]
    : [];
}

const STAT_METRICS = {
  received: 'usage_tracker_messages_consumed_total',
  applied: 'usage_tracker_messages_applied_total',
  uses: 'usage_tracker_uses_applied_total',
  duplicates: 'usage_tracker_duplicates_skipped_total',
  rejected: 'usage_tracker_messages_rejected_total',
  failedBatches: 'usage_tracker_batch_failures_total',
};

/** Reads each replica's ingest counters from its /metrics, then stops it (SIGTERM: it drains first). */
async function stopTrackers(trackers) {
  const stats = [];
  for (const { child, url } of trackers) {
    const replica = {};
    for (const [stat, name] of Object.entries(STAT_METRICS)) replica[stat] = (await scrape(url, name))[''] ?? 0;
    stats.push(replica);
    await stopChild(child);
    running.delete(child);
  }
  return stats;
}

/** Events the trackers skipped as already counted, over all replicas' stats. */
function duplicatesOf(stats) {
  let duplicates = 0;
  for (const replica of stats) duplicates += Number(replica.duplicates);
  return duplicates;
}

async function dropStream(bus) {
  const jsm = await jetstreamManager(bus.connection);
  await jsm.streams.delete(usageStreamNames(bus).stream).catch(() => false);
}

/**
 * One round of phase 1 in a stream and key range of its own: N single-use messages stored first,
 * then the tracker replicas start and the clock runs from the moment all are ready until the
 * database total is exactly N.
 */
async function trackerRound(round) {
  const prefix = `${runId}.tracker${round}`;
  const keys = `p1r${round}-k`;
  const bus = await NatsBus.connect({ url: natsUrl, subjectPrefix: prefix, name: 'bench-usage', logger });
  try {
    const names = usageStreamNames(bus);
    const jsm = await jetstreamManager(bus.connection);
    await ensureUsageStream(jsm, names);
    const at = new Date().toISOString();
    const js = jetstream(bus.connection);
    const window = 2000;
    const publishStarted = performance.now();
    for (let i = 0; i < N; i += window) {
      const acks = [];
      for (let j = i; j < Math.min(N, i + window); j++) {
        acks.push(js.publish(names.subject, JSON.stringify({ keyId: `${keys}${j % KEYS}`, accountId: 'bench', chatbotId: null, at })));
      }
      await Promise.all(acks);
    }
    const publishSeconds = (performance.now() - publishStarted) / 1000;
    const stored = (await jsm.streams.info(names.stream)).state.messages;
    log(
      `phase 1, round ${round}: stored ${stored} messages in ${publishSeconds.toFixed(1)} s (${Math.round(stored / publishSeconds)} msg/s publish with acks)`,
    );

    // The clock starts once every replica is ready; what they counted while starting is left out.
    const trackers = await startTrackers(prefix);
    const started = performance.now();
    const before = await total(db, keys);
    const seen = await until(db, keys, N, 300_000);
    const seconds = (performance.now() - started) / 1000;
    const stats = await stopTrackers(trackers);
    const rate = Math.round((N - before) / seconds);
    log(
      `phase 1, round ${round}: ${REPLICAS} tracker process(es), batch ${BATCH}: ${seen}/${N} counted, the last ${N - before} in ${seconds.toFixed(2)} s = ${rate} events/s` +
        ` (${seen === N ? 'exact' : 'NOT EXACT'}; duplicates skipped ${duplicatesOf(stats)})`,
    );
    return { timed: N - before, total: seen, exact: seen === N, seconds, rate, stats };
  } finally {
    await dropStream(bus);
    await bus.close();
  }
}

await migrateUsageTracker(databaseUrl);
const db = new pg.Client({ connectionString: databaseUrl });
await db.connect();
const results = {};
try {
  // Phase 1: tracker ingestion from a full stream, ROUNDS times (this machine's round-to-round spread is wide).
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) rounds.push(await trackerRound(round));
  const rate = Math.round(median(rounds.map((r) => r.rate)));
  results.tracker = {
    messages: N,
    exact: rounds.every((r) => r.exact),
    rate,
    rounds,
    replicas: REPLICAS,
    batch: Number(BATCH),
  };
  log(
    `phase 1: median of ${ROUNDS} round(s) ${rate} events/s (rounds ${rounds.map((r) => r.rate).join(', ')}; ${results.tracker.exact ? 'all exact' : 'NOT EXACT'})`,
  );

  // Phase 2: gateway publisher → stream → tracker, uses coalesced per key and minute.
  {
    const prefix = `${runId}.e2e`;
    const bus = await NatsBus.connect({ url: natsUrl, subjectPrefix: prefix, name: 'bench-usage', logger });
    try {
      await ensureUsageStream(await jetstreamManager(bus.connection), usageStreamNames(bus));
      const trackers = await startTrackers(prefix);
      const publisher = new UsagePublisher(
        { jetStream: jetstream(bus.connection), subject: bus.subject('keyUsedBatch'), isConnected: () => bus.connected, logger },
        { ...DEFAULT_USAGE_PUBLISHER_OPTIONS, shutdownTimeoutMs: 60_000 },
      );
      publisher.start();
      const started = performance.now();
      for (let i = 0; i < USES; i++) {
        publisher.recordUse(`p2-k${i % KEYS}`);
        if (i % 5000 === 4999) await new Promise((resolve) => setImmediate(resolve));
      }
      const recordSeconds = (performance.now() - started) / 1000;
      await publisher.stop();
      const undelivered = (await usesUndelivered.get()).values.reduce((sum, value) => sum + value.value, 0);
      const seen = await until(db, 'p2-k', USES - undelivered, 120_000);
      const seconds = (performance.now() - started) / 1000;
      if (seen !== USES) {
        const jsm = await jetstreamManager(bus.connection);
        const names = usageStreamNames(bus);
        const stream = await jsm.streams.info(names.stream);
        const consumer = await jsm.consumers.info(names.stream, names.durable);
        log(
          `phase 2: undelivered ${undelivered}; stream holds ${stream.state.messages}; consumer pending ${consumer.num_pending}, ack pending ${consumer.num_ack_pending}, redelivered ${consumer.num_redelivered}`,
        );
      }
      const stats = await stopTrackers(trackers);
      if (seen !== USES) log(`phase 2: tracker stats ${JSON.stringify(stats)}`);
      results.endToEnd = { uses: USES, total: seen, exact: seen === USES, seconds, rate: Math.round(USES / seconds) };
      log(
        `phase 2: ${USES} uses recorded in ${recordSeconds.toFixed(2)} s, ${seen}/${USES} counted after ${seconds.toFixed(2)} s` +
          ` = ${Math.round(USES / seconds)} uses/s end to end (${seen === USES ? 'exact' : 'NOT EXACT'})`,
      );
    } finally {
      await dropStream(bus);
      await bus.close();
    }
  }
} finally {
  await db.end();
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const server = new pg.Client({ connectionString: admin.toString() });
  await server.connect();
  await server.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [runId]);
  await server.query(`DROP DATABASE IF EXISTS "${runId}"`);
  await server.end();
}
log(JSON.stringify(results));
const exact = results.tracker?.exact && results.endToEnd?.exact;
process.exit(exact ? 0 : 1);
