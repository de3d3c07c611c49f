import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Subjects, USAGE_BATCH_LIMITS } from '@app/contracts';
import type { NatsBus } from './nats-bus.js';

const MS = 1_000_000; // JetStream durations are nanoseconds

/**
 * The `key.used` stream (subjects `key.used` and `key.used.batch`), declared here once for the gateway (publisher) and the
 * usage-tracker (consumer); both create or update it at start.
 *
 * - File storage: uses survive a NATS restart.
 * - Work-queue retention: a message is removed once the tracker acks it (after its
 *   database commit), so the store holds only the backlog, never history.
 * - Size limit 1 GiB with `discard: new`: when the tracker is down long enough to fill
 *   it, publishes are refused and the gateway counts and logs what it cannot deliver.
 *   The old-message discard policy would delete unconsumed uses silently instead.
 *   A batch entry (one key and minute) is about 65 bytes with a UUID key id: some 16 million counts of backlog.
 * - Message size limit: one full batch (USAGE_BATCH_LIMITS.maxBytes) plus room for its headers.
 * - No age limit, for the same reason: an unconsumed use is never expired.
 * - Duplicate window 10 minutes: the gateway publishes every message with a
 *   `Nats-Msg-Id` and retries it with the same id, so a publish whose ack was lost is
 *   stored once. The server rebuilds that window from stored messages after its own
 *   restart; a message already consumed by then is no longer there to match.
 */
export const USAGE_STREAM_LIMITS = {
  maxBytes: 1024 * 1024 * 1024,
  maxMessageBytes: USAGE_BATCH_LIMITS.maxBytes + 4 * 1024,
  duplicateWindowMs: 10 * 60_000,
} as const;

/** The tracker's durable pull consumer, shared by all replicas. */
export const USAGE_CONSUMER_DEFAULTS = {
  durableName: 'usage-tracker',
  /** Unacked messages (a crashed replica's batch) come back after this long. */
  ackWaitMs: 10_000,
  /** Bounds what all replicas hold unacked at once: a few batches each. */
  maxAckPending: 20_000,
} as const;

export interface UsageStreamNames {
  stream: string;
  /** Single uses (`key.used`), from any service allowed to publish them. */
  subject: string;
  /** Batches (`key.used.batch`), from gateways. */
  batchSubject: string;
  durable: string;
}

/**
 * Names follow the bus subject prefix, so an isolated test run (its own
 * NATS_SUBJECT_PREFIX) gets a stream of its own: `t1.key.used` → stream `t1_KEY_USED`.
 */
export function usageStreamNames(bus: Pick<NatsBus, 'subject'>): UsageStreamNames {
  const subject = bus.subject('keyUsed');
  const prefix = subject.slice(0, subject.length - Subjects.keyUsed.length);
  return {
    stream: `${prefix.replace(/\./g, '_')}KEY_USED`,
    subject,
    batchSubject: `${prefix}${Subjects.keyUsedBatch}`,
    durable: USAGE_CONSUMER_DEFAULTS.durableName,
  };
}

export function usageStreamConfig(names: UsageStreamNames, replicas = 1): Partial<StreamConfig> & { name: string } {
  return {
    name: names.stream,
    description: 'key.used: uses of API keys, one key per message or many per batch; consumed by the usage-tracker',
    subjects: [names.subject, names.batchSubject],
    storage: StorageType.File,
    retention: RetentionPolicy.Workqueue,
    discard: DiscardPolicy.New,
    max_bytes: USAGE_STREAM_LIMITS.maxBytes,
    max_msg_size: USAGE_STREAM_LIMITS.maxMessageBytes,
    max_age: 0,
    max_msgs: -1,
    num_replicas: replicas,
    duplicate_window: USAGE_STREAM_LIMITS.duplicateWindowMs * MS,
  };
}

/**
 * Creates the stream (with `replicas`, USAGE_STREAM_REPLICAS: 3 on a NATS cluster), or brings an
 * existing one to the declared configuration, its replica count included: a stream created with
 * one replica before the cluster grew is replicated once the setting says so, and a node lost
 * then no longer stops usage publishing. The gateway and the tracker read the same setting (one
 * ConfigMap), so they never pull the count two ways.
 */
export async function ensureUsageStream(jsm: JetStreamManager, names: UsageStreamNames, replicas = 1): Promise<void> {
  const config = usageStreamConfig(names, replicas);
  try {
    await jsm.streams.info(names.stream);
  } catch (error) {
    if (!isNotFound(error, JetStreamApiCodes.StreamNotFound)) throw error;
    try {
      await jsm.streams.add(config);
      return;
    } catch (addError) {
      // Another replica created it between our look-up and our add: update it like any existing one.
      if (!isAlreadyInUse(addError)) throw addError;
    }
  }
  // Storage and retention cannot change on a live stream; everything else is brought up to date.
  const { name: _name, storage: _storage, retention: _retention, ...updatable } = config;
  try {
    await jsm.streams.update(names.stream, { ...updatable, subjects: [names.subject, names.batchSubject] });
  } catch (error) {
    if (!(error instanceof JetStreamApiError)) throw error;
    // Typically more replicas than the NATS cluster has servers: say which setting to fix.
    throw new Error(`cannot bring stream ${names.stream} to ${replicas} replica(s) (USAGE_STREAM_REPLICAS): ${error.message}`, {
      cause: error,
    });
  }
}

export interface UsageConsumerOptions {
  ackWaitMs?: number;
  maxAckPending?: number;
}

export function usageConsumerConfig(names: UsageStreamNames, options: UsageConsumerOptions = {}): Partial<ConsumerConfig> {
  return {
    durable_name: names.durable,
    description: 'usage-tracker: aggregates key.used per key and minute',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    // No filter: the stream holds exactly the two usage subjects and this consumer reads both.
    ack_wait: (options.ackWaitMs ?? USAGE_CONSUMER_DEFAULTS.ackWaitMs) * MS,
    max_ack_pending: options.maxAckPending ?? USAGE_CONSUMER_DEFAULTS.maxAckPending,
    // Unlimited redelivery: a message is never given up on (and so never silently skipped).
    max_deliver: -1,
  };
}

/** Creates the durable consumer or updates the fields a live consumer may change. */
export async function ensureUsageConsumer(
  jsm: JetStreamManager,
  names: UsageStreamNames,
  options: UsageConsumerOptions = {},
): Promise<void> {
  const config = usageConsumerConfig(names, options);
  try {
    const existing = await jsm.consumers.info(names.stream, names.durable);
    if (existing.config.filter_subject) await dropSubjectFilter(jsm, names, config);
  } catch (error) {
    if (!isNotFound(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
    try {
      await jsm.consumers.add(names.stream, config);
      return;
    } catch (addError) {
      if (!isAlreadyInUse(addError)) throw addError;
    }
  }
  await jsm.consumers.update(names.stream, names.durable, {
    description: config.description,
    ack_wait: config.ack_wait,
    max_ack_pending: config.max_ack_pending,
    max_deliver: config.max_deliver,
  });
}

/**
 * A consumer declared before batches existed reads `key.used` only. It is deleted and declared
 * again (NATS 2.9 cannot change a consumer's filter, and nats.js cannot send an empty one). Nothing
 * is lost that way: on a work-queue stream unacked messages stay stored and the new consumer
 * delivers them, and a message committed but acked to the old consumer comes back and is skipped
 * as already applied. Upgrade every tracker before the gateways (docs/operations.md): a tracker
 * of the earlier release would refuse batch messages as malformed.
 */
async function dropSubjectFilter(jsm: JetStreamManager, names: UsageStreamNames, config: Partial<ConsumerConfig>): Promise<void> {
  await jsm.consumers.delete(names.stream, names.durable).catch((error: unknown) => {
    if (!isNotFound(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
  });
  await jsm.consumers.add(names.stream, config).catch((error: unknown) => {
    // Another replica declared it again first.
    if (!isAlreadyInUse(error)) throw error;
  });
}

function isNotFound(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && (error.code === code || error.status === 404);
}

function isAlreadyInUse(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.status === 400 || error.status === 409) && /already|in use/i.test(error.message);
}
