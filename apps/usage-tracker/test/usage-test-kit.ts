import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { KeyUsedEvent } from '@app/contracts';
import { createLogger, usageStreamNames, NatsBus, type Logger } from '@app/common';
import { createTestDatabase, testEnvironment, type TestDatabase, type TestEnvironment } from '@app/testing';
import { migrateUsageTracker } from '../src/database/migrate.js';
import { usageTrackerDataSourceOptions } from '../src/database/data-source-options.js';
import { loadUsageTrackerConfig, type UsageTrackerConfig } from '../src/config.js';
import { startUsageTracker } from '../src/usage-tracker.js';
import { UsageConsumer } from '../src/ingest/usage-consumer.js';

/** Test helpers for the usage-tracker's integration specs (real Postgres and NATS). */

export const quietLogger = (): Logger => createLogger('usage-tracker-test', process.env.TEST_LOG_LEVEL ?? 'silent');

export function trackerConfig(
  env: { natsUrl: string; subjectPrefix: string; databaseUrl: string },
  extra: NodeJS.ProcessEnv = {},
): UsageTrackerConfig {
  return loadUsageTrackerConfig({
    NATS_URL: env.natsUrl,
    NATS_SUBJECT_PREFIX: env.subjectPrefix,
    DATABASE_URL: env.databaseUrl,
    USAGE_TRACKER_HTTP_PORT: '0',
    USAGE_FLUSH_INTERVAL_MS: '100',
    USAGE_PRUNE_INTERVAL_MS: '500',
    DATABASE_POOL_SIZE: '3',
    // Specs of ingestion use fixed past times: rollup and retention (specs of their own, with a clock) stay off.
    USAGE_MAINTENANCE_INTERVAL_MS: '0',
    LOG_LEVEL: 'silent',
    ...extra,
  });
}

export interface RunningTracker {
  app: NestFastifyApplication;
  consumer: UsageConsumer;
  close(): Promise<void>;
}

export async function startTracker(config: UsageTrackerConfig, logger = quietLogger()): Promise<RunningTracker> {
  const app = await startUsageTracker(config, logger);
  return { app, consumer: app.get(UsageConsumer), close: () => app.close() };
}

/** What the ingestion specs share: the run's environment, one migrated database, and the buses and trackers they start. */
export interface IngestFixture {
  readonly env: TestEnvironment;
  readonly db: TestDatabase;
  /** A subject prefix of the test's own (so a stream and consumer of its own; the database is shared), and a bus on it. */
  namespace(name: string): Promise<{ bus: NatsBus; prefix: string }>;
  /** A tracker on `prefix` and the shared database, closed after the spec. */
  tracker(prefix: string, extra?: NodeJS.ProcessEnv): Promise<RunningTracker>;
  /**
   * Holds `stream`'s row in another transaction, so every batch waits for it as behind a stalled
   * database, until the returned function ends that transaction.
   */
  stallStream(stream: string): Promise<() => Promise<void>>;
}

/** Registers the spec's beforeAll (database) and afterAll (trackers, streams, buses, database). */
export function ingestFixture(): IngestFixture {
  let env: TestEnvironment | undefined;
  let db: TestDatabase | undefined;
  const buses: NatsBus[] = [];
  const trackers: RunningTracker[] = [];

  beforeAll(async () => {
    env = testEnvironment();
    db = await createTestDatabase(env);
    await migrateUsageTracker(db.url);
  });

  afterAll(async () => {
    for (const running of trackers) await running.close().catch(() => undefined);
    for (const bus of buses) {
      await deleteUsageStream(bus).catch(() => undefined);
      await bus.close();
    }
    await db?.drop();
  });

  const fixture: IngestFixture = {
    get env() {
      if (!env) throw new Error('the fixture is set up in beforeAll');
      return env;
    },
    get db() {
      if (!db) throw new Error('the fixture is set up in beforeAll');
      return db;
    },
    async namespace(name) {
      const prefix = `${fixture.env.subjectPrefix}.${name}`;
      const bus = await connectBus(fixture.env.natsUrl, prefix);
      buses.push(bus);
      return { bus, prefix };
    },
    async tracker(prefix, extra = {}) {
      const running = await startTracker(
        trackerConfig({ natsUrl: fixture.env.natsUrl, subjectPrefix: prefix, databaseUrl: fixture.db.url }, extra),
      );
      trackers.push(running);
      return running;
    },
    async stallStream(stream) {
      const blocker = await new DataSource(usageTrackerDataSourceOptions(fixture.db.url, 1)).initialize();
      const runner = blocker.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      await runner.query(`SELECT 1 FROM usage.stream_state WHERE stream = $1 FOR UPDATE`, [stream]);
      return async () => {
        await runner.rollbackTransaction();
        await runner.release();
        await blocker.destroy();
      };
    },
  };
  return fixture;
}

export function keyUsed(keyId: string, at: Date | string, count?: number): KeyUsedEvent {
  return {
    keyId,
    accountId: `acc-${keyId}`,
    chatbotId: null,
    at: typeof at === 'string' ? at : at.toISOString(),
    ...(count ? { count } : {}),
  };
}

/** Publishes raw messages to the run's stream with acks, a window at a time. */
export async function publishEvents(bus: NatsBus, events: readonly (KeyUsedEvent | string)[], window = 500): Promise<void> {
  const js = jetstream(bus.connection);
  const subject = bus.subject('keyUsed');
  for (let i = 0; i < events.length; i += window) {
    await Promise.all(
      events.slice(i, i + window).map((event) => js.publish(subject, typeof event === 'string' ? event : JSON.stringify(event))),
    );
  }
}

/**
 * Publishes `key.used.batch` messages (a list of entries, or a raw body) with acks, a window at a time.
 * Each is sent with the message id given (or none): the stream stores one message per id within its window.
 */
export async function publishBatches(
  bus: NatsBus,
  batches: readonly { uses: readonly unknown[] | string; msgID?: string }[],
  window = 100,
): Promise<void> {
  const js = jetstream(bus.connection);
  const subject = bus.subject('keyUsedBatch');
  for (let i = 0; i < batches.length; i += window) {
    await Promise.all(
      batches
        .slice(i, i + window)
        .map(({ uses, msgID }) =>
          js.publish(subject, typeof uses === 'string' ? uses : JSON.stringify({ uses }), msgID ? { msgID } : undefined),
        ),
    );
  }
}

export async function connectBus(natsUrl: string, subjectPrefix: string): Promise<NatsBus> {
  return NatsBus.connect({ url: natsUrl, subjectPrefix, name: 'usage-test', logger: quietLogger() });
}

/** Removes the run's stream (and its consumer) from the NATS server. */
export async function deleteUsageStream(bus: NatsBus): Promise<void> {
  const jsm = await jetstreamManager(bus.connection);
  await jsm.streams.delete(usageStreamNames(bus).stream).catch(() => false);
}

/**
 * Uses counted for a key (or all keys), whichever resolution holds them: minute rows where they are
 * kept, hour rows (and late uses not yet folded in) before the minute horizon, day rows before the
 * hour horizon, as the usage queries read them. Exact while the rollup and retention run.
 */
export async function totalUses(databaseUrl: string, keyId?: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query(
      `WITH "h" AS (SELECT "minutes_from", "hours_from" FROM "usage"."usage_rollup_state" WHERE "id" = 1)
       SELECT (
         (SELECT coalesce(sum(m."count"), 0) FROM "usage"."key_usage_minutes" AS m, "h"
           WHERE ($1::varchar IS NULL OR m."key_id" = $1) AND (h."minutes_from" IS NULL OR m."minute" >= h."minutes_from"))
       + (SELECT coalesce(sum(o."count"), 0) FROM "usage"."key_usage_hours" AS o, "h"
           WHERE ($1::varchar IS NULL OR o."key_id" = $1) AND o."hour" < h."minutes_from" AND (h."hours_from" IS NULL OR o."hour" >= h."hours_from"))
       + (SELECT coalesce(sum(d."count"), 0) FROM "usage"."key_usage_days" AS d, "h"
           WHERE ($1::varchar IS NULL OR d."key_id" = $1) AND d."day" < h."hours_from")
       + (SELECT coalesce(sum(l."count"), 0) FROM "usage"."key_usage_late" AS l, "h"
           WHERE ($1::varchar IS NULL OR l."key_id" = $1) AND l."minute" < h."minutes_from")
       )::text AS total`,
      [keyId ?? null],
    );
    return Number(result.rows[0].total);
  } finally {
    await client.end();
  }
}

/** Pacing a scenario (traffic spread over time, an outage's length); never for waiting on a result. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
