// Scenario usage-storage: what the usage tables hold for a day of keys used every minute, before and
// after the tracker's rollup and retention. In a database of its own (dropped afterwards), minute rows
// for K keys × 1,440 minutes (each key used every minute: the worst case per active key) are written
// in minute order, as ingestion writes them, into the real partitioned table (ids shaped like real
// key ids, UUIDs). Then the tracker's own maintenance (dist/, injected clock) rolls the day up and,
// 8 days later, applies the minute retention. Rows and bytes (pg_total_relation_size, every
// partition with its indexes and TOAST) are read at each stage and scaled linearly to 100,000 keys:
// every key adds the same rows to every table, so bytes per key do not depend on how many keys there
// are (B-tree depth aside); the empty tables' own pages (partitions made ahead, first index pages) are
// measured first and counted once.
import pg from 'pg';

const dist = new URL('../../dist/', import.meta.url);
const load = (path) => import(new URL(path, dist).href);
const DAY_MS = 86_400_000;
const TARGET_KEYS = 100_000;

const TABLES = {
  minutes: 'usage.key_usage_minutes',
  hours: 'usage.key_usage_hours',
  days: 'usage.key_usage_days',
  late: 'usage.key_usage_late',
};

/**
 * Rows, and bytes of every partition with its indexes and TOAST: `bytes` is pg_total_relation_size;
 * `maps` the free-space and visibility maps within it (a few pages per relation, whatever its rows),
 * kept apart so that scaling to more keys scales only the data pages.
 */
async function measure(client) {
  const result = {};
  for (const [name, table] of Object.entries(TABLES)) {
    const [{ rows }] = (await client.query(`SELECT count(*)::bigint AS rows FROM ${table}`)).rows;
    const [sizes] = (
      await client.query(
        `WITH "tables" AS (
           SELECT relid FROM pg_partition_tree($1::regclass) WHERE isleaf
           UNION SELECT $1::regclass WHERE (SELECT relkind FROM pg_class WHERE oid = $1::regclass) = 'r'
         ), "relations" AS (
           SELECT relid AS oid FROM "tables"
           UNION ALL SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT relid FROM "tables")
           UNION ALL SELECT reltoastrelid FROM pg_class WHERE oid IN (SELECT relid FROM "tables") AND reltoastrelid <> 0
         )
         SELECT (SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM "tables")::bigint AS bytes,
                coalesce(sum(pg_relation_size(oid, 'fsm') + pg_relation_size(oid, 'vm')), 0)::bigint AS maps
           FROM "relations"`,
        [table],
      )
    ).rows;
    result[name] = { rows: Number(rows), bytes: Number(sizes.bytes), maps: Number(sizes.maps) };
  }
  result.total = Object.values(result).reduce(
    (sum, x) => ({ rows: sum.rows + x.rows, bytes: sum.bytes + x.bytes, maps: sum.maps + x.maps }),
    { rows: 0, bytes: 0, maps: 0 },
  );
  return result;
}

/** K keys' data pages times `factor`, over the empty tables' pages; the maps counted once. A table with no rows is as measured. */
function scaled(stage, empty, factor) {
  const result = {};
  for (const name of Object.keys(TABLES)) {
    const x = stage[name];
    const data = x.bytes - x.maps;
    const emptyData = empty[name].bytes - empty[name].maps;
    const bytes = x.rows === 0 ? x.bytes : emptyData + Math.max(0, data - emptyData) * factor + x.maps;
    result[name] = { rows: x.rows * factor, bytes };
  }
  result.total = Object.values(result).reduce((sum, x) => ({ rows: sum.rows + x.rows, bytes: sum.bytes + x.bytes }), { rows: 0, bytes: 0 });
  return result;
}

export async function runUsageStorage({ keys, log }) {
  const { migrateUsageTracker } = await load('apps/usage-tracker/src/database/migrate.js');
  const { usageTrackerDataSourceOptions } = await load('apps/usage-tracker/src/database/data-source-options.js');
  const { UsageRollupRepository } = await load('apps/usage-tracker/src/rollup/usage-rollup.repository.js');
  const { UsageMaintenance } = await load('apps/usage-tracker/src/rollup/usage-maintenance.js');
  const { loadUsageTrackerConfig } = await load('apps/usage-tracker/src/config.js');
  const { createLogger } = await load('libs/common/src/index.js');
  const { DataSource } = await import('typeorm');

  const server = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/chatbot_keys');
  const name = `bench_storage_${Date.now().toString(36)}`;
  const url = new URL(server);
  url.pathname = `/${name}`;
  server.pathname = '/postgres';
  await migrateUsageTracker(url.toString());
  const dataSource = await new DataSource(usageTrackerDataSourceOptions(url.toString(), 2)).initialize();
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    // The tracker's defaults: USAGE_MINUTE_RETENTION_DAYS, USAGE_HOUR_RETENTION_DAYS.
    const options = { ...loadUsageTrackerConfig({}).maintenance, intervalMs: 0 };
    const maintenance = new UsageMaintenance(new UsageRollupRepository(dataSource), options, createLogger('bench-storage', 'warn'));
    const day = Math.floor(Date.now() / DAY_MS) * DAY_MS + 2 * DAY_MS;
    await maintenance.runOnce(day + 10 * 60_000);
    await client.query('VACUUM ANALYZE usage.key_usage_minutes, usage.key_usage_hours, usage.key_usage_days, usage.key_usage_late');
    const empty = await measure(client);

    const started = performance.now();
    for (let hour = 0; hour < 24; hour++) {
      await client.query(
        `INSERT INTO usage.key_usage_minutes (key_id, minute, count, refused, last_used_at)
         SELECT md5('bench-key-' || k)::uuid::text, m, 1 + (k + h) % 5, 0, m + interval '30 seconds'
           FROM generate_series($2::timestamptz, $2::timestamptz + interval '59 minutes', interval '1 minute') AS m,
                generate_series(1, $1) AS k, (SELECT $3::int AS h) AS x
          ORDER BY m, k`,
        [keys, new Date(day + hour * 3_600_000).toISOString(), hour],
      );
    }
    const writeSeconds = (performance.now() - started) / 1000;
    await client.query('VACUUM ANALYZE usage.key_usage_minutes');
    const expected = Number((await client.query('SELECT sum(count)::bigint AS n FROM usage.key_usage_minutes')).rows[0].n);
    const before = await measure(client);
    log(
      `  minute rows only: ${before.minutes.rows.toLocaleString('en-US')} rows, ${(before.total.bytes / 2 ** 20).toFixed(1)} MiB (written in ${writeSeconds.toFixed(1)} s)`,
    );

    const rollStarted = performance.now();
    const rolled = await maintenance.runOnce(day + DAY_MS + 10 * 60_000);
    const rollupSeconds = (performance.now() - rollStarted) / 1000;
    await client.query('VACUUM ANALYZE usage.key_usage_minutes, usage.key_usage_hours, usage.key_usage_days, usage.key_usage_late');
    const rolledUp = await measure(client);
    log(
      `  rolled up (${rolled.hoursRolled} hours in ${rollupSeconds.toFixed(1)} s), minutes still kept: ${(rolledUp.total.bytes / 2 ** 20).toFixed(1)} MiB`,
    );

    // Eight days on: the first run moves the minute horizon past the day, the next drops its partition.
    const later = day + 8 * DAY_MS + 3_600_000;
    await maintenance.runOnce(later);
    const retention = await maintenance.runOnce(later + 60_000);
    await client.query('VACUUM ANALYZE usage.key_usage_minutes, usage.key_usage_hours, usage.key_usage_days, usage.key_usage_late');
    const after = await measure(client);
    const hourTotal = Number((await client.query('SELECT coalesce(sum(count), 0)::bigint AS n FROM usage.key_usage_hours')).rows[0].n);
    const dayTotal = Number((await client.query('SELECT coalesce(sum(count), 0)::bigint AS n FROM usage.key_usage_days')).rows[0].n);
    const exact = hourTotal === expected && dayTotal === expected;
    log(
      `  after retention (dropped ${retention.partitionsDropped.join(', ') || 'nothing'}): ${after.total.rows.toLocaleString('en-US')} rows, ${(after.total.bytes / 2 ** 20).toFixed(2)} MiB; totals ${exact ? 'exact' : 'NOT exact'}`,
    );
    const factor = TARGET_KEYS / keys;
    return {
      keys,
      minutesPerKey: 1440,
      targetKeys: TARGET_KEYS,
      retention: { minuteDays: options.minuteRetentionDays, hourDays: options.hourRetentionDays },
      writeSeconds,
      rollupSeconds,
      hoursRolled: rolled.hoursRolled,
      dropped: retention.partitionsDropped,
      uses: expected,
      exact,
      measured: { empty, before, rolledUp, after },
      scaled: { before: scaled(before, empty, factor), rolledUp: scaled(rolledUp, empty, factor), after: scaled(after, empty, factor) },
    };
  } finally {
    await client.end();
    await dataSource.destroy();
    const admin = new pg.Client({ connectionString: server.toString() });
    await admin.connect();
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name]);
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.end();
  }
}
