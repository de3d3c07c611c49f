import { performance } from 'node:perf_hooks';
import {
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { ensureUsageConsumer, ensureUsageStream, usageStreamNames, type Logger, type NatsBus, type UsageStreamNames } from '@app/common';
import type { IngestOptions } from '../config.js';
import { parseUse, type UseRecord } from './usage-batch.js';
import type { UsageIngestRepository } from './usage-ingest.repository.js';
import * as metrics from './ingest-metrics.js';

/** A batch whose transaction failed comes back after this long (possibly to another replica). */
const NAK_DELAY_MS = 1_000;

export interface IngestStats {
  received: number;
  applied: number;
  uses: number;
  duplicates: number;
  rejected: number;
  failedBatches: number;
}

/**
 * Drains `key.used` through the shared durable pull consumer: messages are gathered into
 * batches (by size, or after the flush interval), each batch is written in one
 * transaction, and its messages are acked only after the commit. Unacked messages (a
 * crash, a failed commit) are redelivered, and the repository skips those already
 * counted. At most one batch commits while the next one fills, so memory holds about
 * two batches plus what the client has pulled (at most twice the batch size).
 */
export class UsageConsumer {
  readonly stats: IngestStats = { received: 0, applied: 0, uses: 0, duplicates: 0, rejected: 0, failedBatches: 0 };
  private readonly names: UsageStreamNames;
  private jsm: JetStreamManager | undefined;
  private messages: ConsumerMessages | undefined;
  private buffer: JsMsg[] = [];
  private committing: Promise<void> = Promise.resolve();
  private batchesInProgress = 0;
  private loop: Promise<void> = Promise.resolve();
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
    this.messages = await consumer.consume({ max_messages: this.options.batchSize * 2 });
    this.loop = this.receive(this.messages);
    void this.watch(this.messages);
    this.flushTimer = setInterval(() => {
      if (this.batchesInProgress === 0 && this.buffer.length > 0) void this.dispatch();
    }, this.options.flushIntervalMs);
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
    await this.loop;
    while (this.buffer.length > 0) await this.dispatch();
    await this.committing;
  }

  private async receive(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const msg of messages) {
        metrics.messagesConsumed.inc();
        this.stats.received += 1;
        this.buffer.push(msg);
        // Waits for the previous batch's commit only: the next batch fills meanwhile.
        if (this.buffer.length >= this.options.batchSize) await this.dispatch();
      }
    } catch (error) {
      this.logger.error({ err: error }, 'key.used consumer stopped');
    }
  }

  /** Queues one batch behind the one committing; resolves when the previous batch is done. */
  private dispatch(): Promise<void> {
    const batch = this.buffer.splice(0, this.options.batchSize);
    if (batch.length === 0) return this.committing;
    const previous = this.committing;
    this.batchesInProgress += 1;
    this.committing = previous
      .then(() => this.process(batch))
      .finally(() => {
        this.batchesInProgress -= 1;
      });
    return previous;
  }

  /** Never rejects: a failed batch is nak'ed and comes back. */
  private async process(batch: JsMsg[]): Promise<void> {
    const started = performance.now();
    const uses: UseRecord[] = [];
    const valid: JsMsg[] = [];
    for (const msg of batch) {
      const parsed = parseUse(msg.seq, decode(msg));
      if (parsed.ok) {
        uses.push(parsed.use);
        valid.push(msg);
      } else {
        this.reject(msg, parsed.problem);
      }
    }
    if (uses.length > 0) {
      try {
        const outcome = await this.repository.applyBatch(this.names.stream, uses);
        for (const msg of valid) msg.ack();
        this.stats.applied += outcome.applied;
        this.stats.uses += outcome.uses;
        this.stats.duplicates += outcome.duplicates;
        metrics.messagesApplied.inc(outcome.applied);
        metrics.usesApplied.inc(outcome.uses);
        if (outcome.duplicates > 0) metrics.duplicatesSkipped.inc(outcome.duplicates);
      } catch (error) {
        this.stats.failedBatches += 1;
        metrics.batchFailures.inc();
        this.logger.error({ err: error, messages: valid.length }, 'could not write a usage batch; its messages will be redelivered');
        for (const msg of valid) msg.nak(NAK_DELAY_MS);
      }
    }
    const last = batch[batch.length - 1];
    metrics.consumerLag.set(last.info.pending + this.buffer.length);
    metrics.batchDuration.observe((performance.now() - started) / 1000);
  }

  /** Malformed messages can never be counted: logged with context and terminated (no redelivery). */
  private reject(msg: JsMsg, problem: string): void {
    this.stats.rejected += 1;
    metrics.messagesRejected.inc();
    this.logger.warn(
      { stream: this.names.stream, seq: msg.seq, subject: msg.subject, deliveries: msg.info.deliveryCount, problem, bytes: msg.data.length },
      'rejected a malformed key.used message',
    );
    msg.term(problem.slice(0, 200));
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

function decode(msg: JsMsg): string {
  try {
    return msg.string();
  } catch {
    return '';
  }
}
