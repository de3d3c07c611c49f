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
   * counts (scripts/bench-usage.mjs: 1000 → 4000 raised ingestion by a third).
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
});

export interface IngestOptions {
  batchSize: number;
  flushIntervalMs: number;
  ackWaitMs: number;
  maxAckPending: number;
  pruneIntervalMs: number;
  streamReplicas: number;
}

export interface UsageTrackerConfig extends BaseConfig {
  port: number;
  databaseUrl: string;
  /** TLS to PostgreSQL (DATABASE_CA_FILE / PGSSLROOTCERT, PGSSLMODE); absent: as the URL says. */
  databaseTls?: PostgresTlsSettings;
  databasePoolSize: number;
  ingest: IngestOptions;
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
  };
}
