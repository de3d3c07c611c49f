import { performance } from 'node:perf_hooks';
import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Msg } from '@nats-io/transport-node';
import { ensureUsageConsumer, ensureUsageStream, usageStreamNames, type Logger, type NatsBus, type UsageStreamNames } from '@app/common';
import type { IngestOptions } from '../config.js';
import { parseAckSubject, type AckSubjectInfo } from './ack-subject.js';
import { parseUsageBatch, parseUse, type RejectedEntry, type UseRecord } from './usage-batch.js';
import type { UsageIngestRepository } from './usage-ingest.repository.js';
import * as metrics from './ingest-metrics.js';

/** A batch whose transaction failed comes back after this long (possibly to another replica). */
const NAK_DELAY_MS = 1_000;
/**
 * Counts waiting here beyond this many batches' worth are handed back (nak, redelivered later):
 * max_ack_pending bounds messages, and one batch message carries up to a thousand counts.
 */
const WAITING_BATCHES = 8;
/** Rejected batch entries logged per message: a message full of bad entries logs a sample. */
const LOGGED_ENTRIES = 5;

export interface IngestStats {
  received: number;
  applied: number;
  uses: number;
  duplicates: number;
  rejected: number;
  /** Entries of batch messages that failed validation (the rest of their message was counted). */
  rejectedEntries: number;
  /** Messages handed back unread because too many counts already waited here. */
  deferred: number;
  failedBatches: number;
  /** Redelivered copies of a message that was still waiting here: they took its place instead of a second one. */
  replaced: number;
}

/**
 * Drains `key.used` through the shared durable pull consumer: messages are gathered into
 * batches (by size, or after the flush interval), each batch is written in one
 * transaction, and its messages are acked only after the commit. Unacked messages (a
 * crash, a failed commit) are redelivered, and the repository skips those already
 * counted. One batch commits at a time while the next fills. Messages arrive by callback
 * (no promise per message). What waits here is bounded by the consumer's max_ack_pending
 * (nothing is acked before its commit), because each message waits once: when the database is
 * slow enough that waiting messages outlive the ack wait, their redelivered copies take their
 * place instead of piling up beside them.
 */
export class UsageConsumer {
  readonly stats: IngestStats = {
    received: 0,
    applied: 0,
    uses: 0,
    duplicates: 0,
    rejected: 0,
    rejectedEntries: 0,
    deferred: 0,
    failedBatches: 0,
    replaced: 0,
  };
  private readonly names: UsageStreamNames;
  private jsm: JetStreamManager | undefined;
  private messages: ConsumerMessages | undefined;
  /** Received and parsed, waiting for the next batch, by stream sequence, in arrival order. */
  private readonly waiting = new Map<number, Waiting>();
  /** Records (counts) in `waiting`: a batch message holds many. */
  private waitingRecords = 0;
  private working: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly bus: NatsBus,
    private readonly repository: UsageIngestRepository,
    private readonly options: IngestOptions,
    private readonly logger: Logger,
  ) {
    this.names = usageStreamNames(bus);
  }

  async start(): Promise<void> {
    this.jsm = await jetstreamManager(this.bus.connection);
    await ensureUsageStream(this.jsm, this.names, this.options.streamReplicas);
    await ensureUsageConsumer(this.jsm, this.names, { ackWaitMs: this.options.ackWaitMs, maxAckPending: this.options.maxAckPending });
    await this.repository.registerStream(this.names.stream);
    const consumer = await jetstream(this.bus.connection).consumers.get(this.names.stream, this.names.durable);
    this.messages = await consumer.consume({
      max_messages: this.options.batchSize * 2,
      callback: (msg) => this.receive(msg),
    });
    void this.watch(this.messages);
    void this.messages.closed().then((error) => {
      if (error) this.logger.error({ err: error }, 'key.used consumer stopped');
    });
    this.flushTimer = setInterval(() => this.pump(true), this.options.flushIntervalMs);
    this.pruneTimer = setInterval(() => void this.prune(), this.options.pruneIntervalMs);
    this.logger.info({ stream: this.names.stream, consumer: this.names.durable }, 'consuming key.used');
  }

  /** Stops pulling, writes and acks what was already received, then returns. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.flushTimer);
    clearInterval(this.pruneTimer);
    await this.messages?.close();
    await this.working;
    while (this.waiting.size > 0) await this.process(this.take());
  }

  /** Messages received and not yet in a batch. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Counts (records) received and not yet in a batch. */
  get waitingRecordCount(): number {
    return this.waitingRecords;
  }

  /**
   * Parses on arrival, so that parsing overlaps the previous batch's commit. Must not throw
   * (that would stop the consumer): a message it cannot handle stays unacked and comes back.
   */
  private receive(msg: JsMsg): void {
    this.stats.received += 1;
    metrics.messagesConsumed.inc();
    try {
      const seq = deliveryOf(msg).streamSeq;
      const waiting = this.waiting.get(seq);
      if (waiting) {
        // A redelivery of a message still waiting here: ack the newest delivery, keep one copy.
        waiting.msg = msg;
        this.stats.replaced += 1;
        metrics.redeliveriesWhileWaiting.inc();
        return;
      }
      if (this.waitingRecords >= this.options.batchSize * WAITING_BATCHES) return this.defer(msg);
      const uses = msg.subject === this.names.batchSubject ? this.parseBatch(msg, seq) : this.parseSingle(msg, seq);
      if (!uses) return;
      this.waiting.set(seq, { msg, uses });
      this.waitingRecords += uses.length;
      if (this.waitingRecords >= this.options.batchSize) this.pump();
    } catch (error) {
      this.logger.error({ err: error, subject: msg.subject }, 'could not take a key.used message; it will be redelivered');
    }
  }

  private parseSingle(msg: JsMsg, seq: number): UseRecord[] | undefined {
    const parsed = parseUse(seq, decode(msg));
    if (!parsed.ok) return void this.reject(msg, parsed.problem);
    return [parsed.use];
  }

  /** A batch message's valid entries; its invalid ones are logged and counted, the message itself kept. */
  private parseBatch(msg: JsMsg, seq: number): UseRecord[] | undefined {
    const parsed = parseUsageBatch(seq, decode(msg), msg.data.length);
    if (!parsed.ok) return void this.reject(msg, parsed.problem);
    if (parsed.rejected.length > 0) this.rejectEntries(msg, seq, parsed.rejected, parsed.uses.length);
    return parsed.uses;
  }

  /** Whole messages up to the batch size in counts (always at least one): a message's counts are applied together. */
  private take(): Batch {
    const batch: Batch = { messages: [], uses: [] };
    for (const [seq, { msg, uses }] of this.waiting) {
      if (batch.messages.length > 0 && batch.uses.length + uses.length > this.options.batchSize) break;
      batch.messages.push(msg);
      for (const use of uses) batch.uses.push(use);
      this.waiting.delete(seq);
      this.waitingRecords -= uses.length;
    }
    return batch;
  }

  /** Starts the next batch unless one is committing: a full one, or (`partial`) whatever is waiting. */
  private pump(partial = false): void {
    if (this.working || this.stopped) return;
    if (this.waiting.size === 0 || (!partial && this.waitingRecords < this.options.batchSize)) return;
    this.working = this.process(this.take()).finally(() => {
      this.working = undefined;
      this.pump();
    });
  }

  /** Never rejects: a failed batch is nak'ed and comes back. */
  private async process({ messages, uses }: Batch): Promise<void> {
    const started = performance.now();
    try {
      const outcome = await this.repository.applyBatch(this.names.stream, uses);
      for (const msg of messages) msg.ack();
      this.stats.applied += outcome.applied;
      this.stats.uses += outcome.uses;
      this.stats.duplicates += outcome.duplicates;
      metrics.messagesApplied.inc(outcome.applied);
      metrics.usesApplied.inc(outcome.uses);
      if (outcome.duplicates > 0) metrics.duplicatesSkipped.inc(outcome.duplicates);
    } catch (error) {
      this.stats.failedBatches += 1;
      metrics.batchFailures.inc();
      this.logger.error({ err: error, messages: messages.length }, 'could not write a usage batch; its messages will be redelivered');
      for (const msg of messages) msg.nak(NAK_DELAY_MS);
    }
    metrics.consumerLag.set(deliveryOf(messages[messages.length - 1]).pending + this.waiting.size);
    metrics.batchDuration.observe((performance.now() - started) / 1000);
  }

  /**
   * Too much already waits (batch messages while the database is slow): handed back unread and
   * redelivered later, so that memory stays bounded in counts, not only in messages.
   */
  private defer(msg: JsMsg): void {
    this.stats.deferred += 1;
    metrics.messagesDeferred.inc();
    msg.nak(NAK_DELAY_MS);
  }

  /** Entries that can never be counted; the rest of their message is. Logged with a sample of what was sent. */
  private rejectEntries(msg: JsMsg, seq: number, rejected: RejectedEntry[], valid: number): void {
    this.stats.rejectedEntries += rejected.length;
    metrics.batchEntriesRejected.inc(rejected.length);
    this.logger.warn(
      {
        stream: this.names.stream,
        seq,
        subject: msg.subject,
        rejected: rejected.length,
        valid,
        sample: rejected.slice(0, LOGGED_ENTRIES).map(({ index, problem, entry }) => ({ index, problem, entry: preview(entry) })),
      },
      'rejected malformed entries of a key.used.batch message; its valid entries are counted',
    );
  }

  /** Malformed messages can never be counted: logged with context and terminated (no redelivery). */
  private reject(msg: JsMsg, problem: string): void {
    this.stats.rejected += 1;
    metrics.messagesRejected.inc();
    this.logger.warn(
      {
        stream: this.names.stream,
        seq: msg.seq,
        subject: msg.subject,
        deliveries: msg.info.deliveryCount,
        problem,
        bytes: msg.data.length,
        body: preview(decode(msg)),
      },
      msg.subject === this.names.batchSubject ? 'rejected a malformed key.used.batch message' : 'rejected a malformed key.used message',
    );
    // No reason with the term: NATS before 2.10.4 ignores `+TERM <reason>` and redelivers; the log carries it.
    msg.term();
  }

  private async prune(): Promise<void> {
    if (!this.jsm || this.stopped) return;
    try {
      const info = await this.jsm.consumers.info(this.names.stream, this.names.durable);
      metrics.consumerLag.set(info.num_pending + info.num_ack_pending);
      const pruned = await this.repository.pruneSettled(this.names.stream, info.ack_floor.stream_seq);
      if (pruned > 0) this.logger.debug({ pruned, ackFloor: info.ack_floor.stream_seq }, 'pruned settled sequences');
    } catch (error) {
      this.logger.warn({ err: error }, 'could not prune settled usage sequences; will retry');
    }
  }

  private async watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (status.type === 'consumer_deleted' || status.type === 'consumer_not_found' || status.type === 'stream_not_found') {
        this.logger.warn({ status }, 'key.used consumer status');
      } else if (status.type === 'heartbeats_missed' || status.type === 'no_responders' || status.type === 'exceeded_limits') {
        this.logger.debug({ status }, 'key.used consumer status');
      }
    }
  }
}

interface Waiting {
  msg: JsMsg;
  /** One for a `key.used` message, one per valid entry for a batch (possibly none). */
  uses: UseRecord[];
}

interface Batch {
  messages: JsMsg[];
  uses: UseRecord[];
}

/**
 * The message's stream sequence and pending count, read straight from its ack subject
 * (`msg.seq` builds the whole delivery info per message). nats.js keeps that subject on every
 * message as `reply` without declaring it on JsMsg; should it ever not be there, `msg.info` answers.
 */
function deliveryOf(msg: JsMsg): AckSubjectInfo {
  const reply = (msg as Partial<Pick<Msg, 'reply'>>).reply;
  const parsed = typeof reply === 'string' ? parseAckSubject(reply) : undefined;
  return parsed ?? { streamSeq: msg.info.streamSequence, pending: msg.info.pending };
}

/** The start of what was sent, for a log line: enough to see what a publisher did, never a whole batch. */
function preview(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function decode(msg: JsMsg): string {
  try {
    return msg.string();
  } catch {
    return '';
  }
}
