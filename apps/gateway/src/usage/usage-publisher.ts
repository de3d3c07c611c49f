import { randomBytes } from 'node:crypto';
import type { JetStreamClient } from '@nats-io/jetstream';
import { USAGE_BATCH_LIMITS, type KeyUsedBatchEntryWithChatbot } from '@app/contracts';
import { RateLimitedLog, type Logger } from '@app/common';
import * as metrics from './usage-metrics.js';

const LOG_INTERVAL_MS = 5_000;

export interface UsagePublisherOptions {
  /**
   * The memory bound: counts held at once (open, or sealed into a batch that is queued for retry
   * or in flight), one per distinct key and minute. Further uses of a key already counted in that
   * minute only raise its count, so this bounds distinct keys, not requests.
   */
  maxPendingEntries: number;
  /** How often open counts are sealed into batches and published (also the retry tick). */
  flushIntervalMs: number;
  /** Batches awaiting their JetStream ack at once. */
  maxInFlight: number;
  /** A batch holds at most this many counts and this many bytes (the contract's bounds, or smaller). */
  maxBatchEntries: number;
  maxBatchBytes: number;
  publishTimeoutMs: number;
  /** After a failed publish, queued batches wait this long before the next attempt. */
  retryDelayMs: number;
  /** How long shutdown waits for pending batches before counting them undelivered. */
  shutdownTimeoutMs: number;
}

export const DEFAULT_USAGE_PUBLISHER_OPTIONS: UsagePublisherOptions = {
  maxPendingEntries: 100_000,
  flushIntervalMs: 50,
  maxInFlight: 64,
  maxBatchEntries: USAGE_BATCH_LIMITS.maxEntries,
  maxBatchBytes: USAGE_BATCH_LIMITS.maxBytes,
  publishTimeoutMs: 5_000,
  retryDelayMs: 500,
  shutdownTimeoutMs: 5_000,
};

interface OpenCount {
  keyId: string;
  minute: number;
  lastAtMs: number;
  count: number;
  /** Requests the key's rate limit refused: not uses. */
  refused: number;
}

interface SealedBatch {
  /** Kept across retries: the stream's duplicate window stores a batch whose ack was lost only once. */
  msgId: string;
  payload: string;
  /** Counts (key and minute) it carries. */
  entries: number;
  /** Uses it carries. */
  uses: number;
}

export interface UsagePublisherDeps {
  jetStream: Pick<JetStreamClient, 'publish'>;
  /** The batch subject (`key.used.batch`, with the bus prefix). */
  subject: string;
  /** Whether the connection is up; nothing is attempted while it is down. */
  isConnected: () => boolean;
  logger: Logger;
}

const BATCH_OPEN = '{"uses":[';
const BATCH_CLOSE = ']}';

/**
 * Records key uses off the request path. `recordUse` only touches memory: uses are counted per
 * key and minute (usage is kept per key: neither the chatbot a request targeted nor the account is
 * sent, the entry's chatbot is null), and every flush interval (later while a backlog waits) the
 * counts are sealed into `key.used.batch` messages, each up to `maxBatchEntries` counts and
 * `maxBatchBytes`, and published to JetStream with acks. So the messages per second follow the flush rate, not
 * the number of distinct keys. A failed publish is retried with the same message id while NATS is
 * down or slow, up to the memory bound; past the bound new uses are counted in
 * `gateway_usage_uses_undelivered_total` and logged. Guarantee: every recorded use is either
 * acked by the stream exactly once (duplicate window) or counted as undelivered; memory never
 * exceeds the bound.
 */
export class UsagePublisher {
  /**
   * Open counts by key id: each key's count for the minute it was first used in since the last
   * flush. A key's count for another minute (the minute turning between flushes) is in
   * `openOthers` under a composite name. Looking up the key id string the verify reply holds costs
   * no string building and no hashing per request (its hash is cached in the string).
   */
  private readonly open = new Map<string, OpenCount>();
  private readonly openOthers = new Map<string, OpenCount>();
  private readonly queued: SealedBatch[] = [];
  private inFlight = 0;
  private inFlightEntries = 0;
  private inFlightUses = 0;
  private queuedEntries = 0;
  private queuedUses = 0;
  private openUses = 0;
  private nextId = 0;
  private readonly instanceId = randomBytes(6).toString('hex');
  private timer: NodeJS.Timeout | undefined;
  private droppedSinceLog = 0;
  private readonly dropLog: RateLimitedLog;
  private readonly failureLog: RateLimitedLog;
  private idle: (() => void) | undefined;
  private pausedUntil = 0;
  private recordedSinceFlush = 0;

  constructor(
    private readonly deps: UsagePublisherDeps,
    private readonly options: UsagePublisherOptions = DEFAULT_USAGE_PUBLISHER_OPTIONS,
  ) {
    this.dropLog = new RateLimitedLog(deps.logger, LOG_INTERVAL_MS);
    this.failureLog = new RateLimitedLog(deps.logger, LOG_INTERVAL_MS);
    if (options.maxBatchEntries > USAGE_BATCH_LIMITS.maxEntries || options.maxBatchBytes > USAGE_BATCH_LIMITS.maxBytes) {
      throw new Error(`usage batches are bounded by ${USAGE_BATCH_LIMITS.maxEntries} entries and ${USAGE_BATCH_LIMITS.maxBytes} bytes`);
    }
  }

  start(): void {
    this.timer ??= setInterval(() => this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /** Never awaits and never throws: the request path does not wait on NATS. */
  recordUse(keyId: string, atMs = Date.now()): void {
    const entry = this.openCount(keyId, atMs);
    if (!entry) return this.undelivered(1, 'queue_full');
    this.recordedSinceFlush += 1;
    // `at` is the latest use (the key's lastUsedAt); a refusal moves it only in a count without uses.
    if (entry.count === 0 || atMs > entry.lastAtMs) entry.lastAtMs = atMs;
    entry.count += 1;
    // Metrics follow at the next flush (every flushIntervalMs): prom-client calls per request showed in the profile.
    this.openUses += 1;
  }

  /**
   * A request the key's rate limit refused: not a use, but reported in the same entry (as
   * `refused`) so that the key's usage shows when it hit its budget. Past the memory bound a
   * refusal is not reported (gateway_rate_limit_refusals_total still counts it).
   */
  recordRefusal(keyId: string, atMs = Date.now()): void {
    const entry = this.openCount(keyId, atMs);
    if (!entry) return;
    if (entry.count === 0 && atMs > entry.lastAtMs) entry.lastAtMs = atMs;
    entry.refused += 1;
  }

  /** The open count for this key and minute, made if the memory bound allows. */
  private openCount(keyId: string, atMs: number): OpenCount | undefined {
    const minute = Math.floor(atMs / 60_000);
    const first = this.open.get(keyId);
    if (first !== undefined && first.minute === minute) return first;
    const otherName = first === undefined ? undefined : `${keyId}\u0000${minute}`;
    const existing = otherName === undefined ? undefined : this.openOthers.get(otherName);
    if (existing) return existing;
    if (this.pendingEntryCount() >= this.options.maxPendingEntries) return undefined;
    const entry: OpenCount = { keyId, minute, lastAtMs: atMs, count: 0, refused: 0 };
    if (otherName === undefined) this.open.set(keyId, entry);
    else this.openOthers.set(otherName, entry);
    return entry;
  }

  /**
   * Seals open counts into batches and publishes what the in-flight limit allows. While earlier
   * batches still wait (NATS slower than the traffic), counts stay open and keep coalescing: the
   * message rate adapts to what the stream acks, without using memory.
   */
  flush(): void {
    this.countRecorded();
    if (this.queued.length >= this.options.maxInFlight || this.openEntryCount() === 0) return this.pump();
    let parts: string[] = [];
    let bytes = BATCH_OPEN.length + BATCH_CLOSE.length;
    let uses = 0;
    const seal = () => {
      this.queued.push({
        msgId: `${this.instanceId}-${this.nextId++}`,
        payload: BATCH_OPEN + parts.join(',') + BATCH_CLOSE,
        entries: parts.length,
        uses,
      });
      this.queuedEntries += parts.length;
      this.queuedUses += uses;
      parts = [];
      bytes = BATCH_OPEN.length + BATCH_CLOSE.length;
      uses = 0;
    };
    for (const entry of this.openEntries()) {
      const json = JSON.stringify(batchEntry(entry));
      // Byte length, not string length: ids may hold non-ASCII characters.
      const size = Buffer.byteLength(json) + 1;
      if (parts.length > 0 && (parts.length >= this.options.maxBatchEntries || bytes + size > this.options.maxBatchBytes)) seal();
      parts.push(json);
      bytes += size;
      uses += entry.count;
    }
    seal();
    this.open.clear();
    this.openOthers.clear();
    this.openUses = 0;
    this.pump();
  }

  /** Uses held in memory and not yet acked by the stream. */
  get pendingUses(): number {
    return this.openUses + this.queuedUses + this.inFlightUses;
  }

  /** Counts (key and minute) held: open, queued or in flight. What the memory bound limits. */
  pendingEntryCount(): number {
    return this.openEntryCount() + this.queuedEntries + this.inFlightEntries;
  }

  private openEntryCount(): number {
    return this.open.size + this.openOthers.size;
  }

  private *openEntries(): Generator<OpenCount> {
    yield* this.open.values();
    yield* this.openOthers.values();
  }

  /** Batches sealed and not yet acked (queued or in flight). */
  pendingBatchCount(): number {
    return this.queued.length + this.inFlight;
  }

  /** Publishes what is pending, waiting up to the shutdown timeout; what is left is counted undelivered. */
  async stop(): Promise<void> {
    this.countRecorded();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    while (this.pendingEntryCount() > 0 && Date.now() < deadline) {
      this.flush();
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        setTimeout(resolve, Math.min(this.options.flushIntervalMs * 4, Math.max(0, deadline - Date.now()))).unref();
      });
      this.idle = undefined;
    }
    const left = this.openUses + this.queuedUses + this.inFlightUses;
    if (left > 0) {
      metrics.usesUndelivered.inc({ reason: 'shutdown' }, left);
      this.deps.logger.error({ uses: left }, 'key uses not delivered to the usage stream before shutdown');
    }
  }

  private countRecorded(): void {
    if (this.recordedSinceFlush === 0) return;
    metrics.usesRecorded.inc(this.recordedSinceFlush);
    this.recordedSinceFlush = 0;
  }

  private pump(): void {
    if (!this.deps.isConnected() || Date.now() < this.pausedUntil) return this.updateGauges();
    while (this.queued.length > 0 && this.inFlight < this.options.maxInFlight) {
      const batch = this.queued.shift()!;
      this.queuedEntries -= batch.entries;
      this.queuedUses -= batch.uses;
      this.inFlight += 1;
      this.inFlightEntries += batch.entries;
      this.inFlightUses += batch.uses;
      void this.publish(batch);
    }
    this.updateGauges();
  }

  private async publish(batch: SealedBatch): Promise<void> {
    let delivered = false;
    try {
      await this.deps.jetStream.publish(this.deps.subject, batch.payload, {
        msgID: batch.msgId,
        timeout: this.options.publishTimeoutMs,
      });
      delivered = true;
    } catch (error) {
      metrics.publishFailures.inc();
      this.logFailure(error);
    }
    this.inFlight -= 1;
    this.inFlightEntries -= batch.entries;
    this.inFlightUses -= batch.uses;
    if (delivered) {
      metrics.usesPublished.inc(batch.uses);
      metrics.batchesPublished.inc();
    } else {
      // Back to the front, retried with the same id after the retry delay: a failing NATS is not hammered.
      this.queued.unshift(batch);
      this.pausedUntil = Date.now() + this.options.retryDelayMs;
      this.queuedEntries += batch.entries;
      this.queuedUses += batch.uses;
    }
    this.updateGauges();
    if (this.pendingEntryCount() === 0) this.idle?.();
    if (delivered) this.pump();
  }

  private undelivered(uses: number, reason: 'queue_full'): void {
    metrics.usesUndelivered.inc({ reason }, uses);
    this.droppedSinceLog += uses;
    const logged = this.dropLog.error(
      { uses: this.droppedSinceLog, reason, pendingEntries: this.pendingEntryCount() },
      'key uses not recorded: the usage publish queue is full (NATS slow or down)',
    );
    if (logged) this.droppedSinceLog = 0;
  }

  private logFailure(error: unknown): void {
    this.failureLog.warn({ err: error, pendingUses: this.pendingUses }, 'key.used.batch publish failed; retrying');
  }

  private updateGauges(): void {
    metrics.pendingBatches.set(this.pendingBatchCount());
    metrics.pendingEntries.set(this.pendingEntryCount());
    metrics.pendingUses.set(this.pendingUses);
  }
}

/**
 * The five-field form with the chatbot null: every tracker release reads it, so gateways and
 * trackers upgrade in any order (see KeyUsedBatchEntryWithChatbot).
 */
function batchEntry(entry: OpenCount): KeyUsedBatchEntryWithChatbot {
  return [entry.keyId, null, entry.lastAtMs, entry.count, entry.refused];
}
