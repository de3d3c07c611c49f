import { z } from 'zod';
import {
  BaseEnvSchema,
  baseConfig,
  DatabaseEnvSchema,
  databaseTls,
  env,
  loadConfig,
  USAGE_CONSUMER_DEFAULTS,
  type BaseConfig,
  type PostgresTlsSettings,
} from '@app/common';

const UsageTrackerEnvSchema = BaseEnvSchema.extend({
  ...DatabaseEnvSchema.shape,
  USAGE_TRACKER_HTTP_PORT: env.port(8083),
  DATABASE_POOL_SIZE: env.positiveInt(5),
  /**
   * Counts applied per database transaction (a `key.used` message is one, a `key.used.batch` one per
   * entry; a batch message is never split): larger batches write each key's minute row once for more
   * counts (`scripts/bench-usage.mjs` measures ingestion).
   */
  USAGE_BATCH_SIZE: env.positiveInt(4000).pipe(z.number().max(10_000)),
  /** A partial batch is written at the latest this long after it started filling (lastUsedAt within 5 s). */
  USAGE_FLUSH_INTERVAL_MS: env.positiveInt(200).pipe(z.number().max(2_000)),
  /** How long a delivered but unacked message waits before redelivery (a crashed replica's batch). */
  USAGE_ACK_WAIT_MS: env.positiveInt(USAGE_CONSUMER_DEFAULTS.ackWaitMs).pipe(z.number().min(1_000)),
  USAGE_MAX_ACK_PENDING: env.positiveInt(USAGE_CONSUMER_DEFAULTS.maxAckPending),
  /** How often applied sequences at or below the consumer's ack floor are pruned (and lag is read). */
  USAGE_PRUNE_INTERVAL_MS: env.positiveInt(5_000),
  /** Replicas of the key.used stream when it is first created (3 on a NATS cluster). */
  USAGE_STREAM_REPLICAS: env.positiveInt(1).pipe(z.number().max(5)),
  /** Minute rows are kept this many days (whole UTC days, dropped as partitions), then only hours and days. */
  USAGE_MINUTE_RETENTION_DAYS: env.positiveInt(7).pipe(z.number().max(366)),
  /** Hour rows are kept this many days (whole UTC months, dropped as partitions), then only days (kept forever). */
  USAGE_HOUR_RETENTION_DAYS: env.positiveInt(400).pipe(z.number().max(3660)),
  /** How often a replica tries to roll up, fold late uses and apply retention (one replica at a time); 0 turns it off. */
  USAGE_MAINTENANCE_INTERVAL_MS: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  ),
});

export interface IngestOptions {
  batchSize: number;
  flushIntervalMs: number;
  ackWaitMs: number;
  maxAckPending: number;
  pruneIntervalMs: number;
  streamReplicas: number;
}

export interface MaintenanceOptions {
  minuteRetentionDays: number;
  hourRetentionDays: number;
  /** 0: this replica never runs maintenance. */
  intervalMs: number;
}

export interface UsageTrackerConfig extends BaseConfig {
  port: number;
  databaseUrl: string;
  /** TLS to PostgreSQL (DATABASE_CA_FILE / PGSSLROOTCERT, PGSSLMODE); absent: as the URL says. */
  databaseTls?: PostgresTlsSettings;
  databasePoolSize: number;
  ingest: IngestOptions;
  maintenance: MaintenanceOptions;
}

export function loadUsageTrackerConfig(source: NodeJS.ProcessEnv = process.env): UsageTrackerConfig {
  const parsed = loadConfig(UsageTrackerEnvSchema, source);
  return {
    ...baseConfig(parsed),
    port: parsed.USAGE_TRACKER_HTTP_PORT,
    databaseUrl: parsed.DATABASE_URL,
    databaseTls: databaseTls(parsed),
    databasePoolSize: parsed.DATABASE_POOL_SIZE,
    ingest: {
      batchSize: parsed.USAGE_BATCH_SIZE,
      flushIntervalMs: parsed.USAGE_FLUSH_INTERVAL_MS,
      ackWaitMs: parsed.USAGE_ACK_WAIT_MS,
      maxAckPending: Math.max(parsed.USAGE_MAX_ACK_PENDING, parsed.USAGE_BATCH_SIZE * 4),
      pruneIntervalMs: parsed.USAGE_PRUNE_INTERVAL_MS,
      streamReplicas: parsed.USAGE_STREAM_REPLICAS,
    },
    maintenance: {
      minuteRetentionDays: parsed.USAGE_MINUTE_RETENTION_DAYS,
      hourRetentionDays: parsed.USAGE_HOUR_RETENTION_DAYS,
      intervalMs: parsed.USAGE_MAINTENANCE_INTERVAL_MS,
    },
  };
}
