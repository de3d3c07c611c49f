import { randomBytes } from 'node:crypto';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KeyUsedEvent } from '@app/contracts';
import { RateLimitedLog, type Logger } from '@app/common';
import * as metrics from './usage-metrics.js';

const LOG_INTERVAL_MS = 5_000;

export interface KeyUse {
  keyId: string;
  accountId: string;
  /** The chatbot the request targeted; null on account routes. */
  chatbotId: string | null;
}

export interface UsagePublisherOptions {
  /**
   * The memory bound: key.used messages held at once (open, queued for retry or in
   * flight). Uses of a key already held in an open message only raise its count, so
   * this bounds distinct (key, chatbot, minute) combinations, not requests.
   */
  maxPendingMessages: number;
  /** How often open messages are sealed and published (also the retry tick). */
  flushIntervalMs: number;
  /** Publishes awaiting their JetStream ack at once. */
  maxInFlight: number;
  publishTimeoutMs: number;
  /** After a failed publish, queued messages wait this long before the next attempt. */
  retryDelayMs: number;
  /** How long shutdown waits for pending messages before counting them undelivered. */
  shutdownTimeoutMs: number;
}

export const DEFAULT_USAGE_PUBLISHER_OPTIONS: UsagePublisherOptions = {
  maxPendingMessages: 100_000,
  flushIntervalMs: 50,
  maxInFlight: 512,
  publishTimeoutMs: 5_000,
  retryDelayMs: 500,
  shutdownTimeoutMs: 5_000,
};

interface OpenMessage extends KeyUse {
  minute: number;
  lastAtMs: number;
  count: number;
  /** Requests the key's rate limit refused: not uses. */
  refused: number;
}

interface SealedMessage {
  /** Kept across retries: the stream's duplicate window stores a message whose ack was lost only once. */
  msgId: string;
  payload: string;
  count: number;
}

export interface UsagePublisherDeps {
  jetStream: Pick<JetStreamClient, 'publish'>;
  subject: string;
  /** Whether the connection is up; nothing is attempted while it is down. */
  isConnected: () => boolean;
  logger: Logger;
}

/**
 * Records key uses off the request path. `recordUse` only touches memory: uses are
 * coalesced per key, chatbot and minute into one `key.used` message with a `count`,
 * sealed every flush interval (later while a backlog waits) and published to JetStream with acks. A failed publish is
 * retried with the same message id while NATS is down or slow, up to the memory bound;
 * past the bound new uses are counted in `gateway_usage_uses_undelivered_total` and
 * logged. Guarantee: every recorded use is either acked by the stream exactly once
 * (duplicate window) or counted as undelivered; memory never exceeds the bound.
 */
export class UsagePublisher {
  private readonly open = new Map<string, OpenMessage>();
  private readonly queued: SealedMessage[] = [];
  private inFlight = 0;
  private inFlightUses = 0;
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
  }

  start(): void {
    this.timer ??= setInterval(() => this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /** Never awaits and never throws: the request path does not wait on NATS. */
  recordUse(use: KeyUse, atMs = Date.now()): void {
    const message = this.openMessage(use, atMs);
    if (!message) return this.undelivered(1, 'queue_full');
    this.recordedSinceFlush += 1;
    // `at` is the latest use (the key's lastUsedAt); a refusal moves it only in a message without uses.
    if (message.count === 0 || atMs > message.lastAtMs) message.lastAtMs = atMs;
    message.count += 1;
    // Metrics follow at the next flush (every flushIntervalMs): prom-client calls per request showed in the profile.
    this.openUses += 1;
  }

  /**
   * A request the key's rate limit refused: not a use, but reported in the same message (as
   * `refused`) so that the key's usage shows when it hit its budget. Past the memory bound a
   * refusal is not reported (gateway_rate_limit_refusals_total still counts it).
   */
  recordRefusal(use: KeyUse, atMs = Date.now()): void {
    const message = this.openMessage(use, atMs);
    if (!message) return;
    if (message.count === 0 && atMs > message.lastAtMs) message.lastAtMs = atMs;
    message.refused += 1;
  }

  /** The open message for this key, chatbot and minute, made if the memory bound allows. */
  private openMessage(use: KeyUse, atMs: number): OpenMessage | undefined {
    const minute = Math.floor(atMs / 60_000);
    const coalesceKey = `${use.keyId}\u0000${use.accountId}\u0000${use.chatbotId ?? ''}\u0000${minute}`;
    const existing = this.open.get(coalesceKey);
    if (existing) return existing;
    if (this.pendingMessageCount() >= this.options.maxPendingMessages) return undefined;
    const message = { keyId: use.keyId, accountId: use.accountId, chatbotId: use.chatbotId, minute, lastAtMs: atMs, count: 0, refused: 0 };
    this.open.set(coalesceKey, message);
    return message;
  }

  /**
   * Seals open messages and publishes what the in-flight limit allows. While earlier
   * messages still wait (NATS slower than the traffic), open messages stay open and keep
   * coalescing: the message rate adapts to what the stream acks, without using memory.
   */
  flush(): void {
    this.countRecorded();
    if (this.queued.length >= this.options.maxInFlight) return this.pump();
    for (const message of this.open.values()) {
      const event: KeyUsedEvent = {
        keyId: message.keyId,
        accountId: message.accountId,
        chatbotId: message.chatbotId,
        at: new Date(message.lastAtMs).toISOString(),
        // A lone use is the plain message every publisher may send; refusals name both counts.
        ...(message.refused > 0 ? { count: message.count, refused: message.refused } : message.count > 1 ? { count: message.count } : {}),
      };
      this.queued.push({ msgId: `${this.instanceId}-${this.nextId++}`, payload: JSON.stringify(event), count: message.count });
      this.queuedUses += message.count;
    }
    this.open.clear();
    this.openUses = 0;
    this.pump();
  }

  /** Uses held in memory and not yet acked by the stream. */
  get pendingUses(): number {
    return this.openUses + this.queuedUses + this.inFlightUses;
  }

  pendingMessageCount(): number {
    return this.open.size + this.queued.length + this.inFlight;
  }

  /** Publishes what is pending, waiting up to the shutdown timeout; what is left is counted undelivered. */
  async stop(): Promise<void> {
    this.countRecorded();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    while (this.pendingMessageCount() > 0 && Date.now() < deadline) {
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
      const message = this.queued.shift()!;
      this.queuedUses -= message.count;
      this.inFlight += 1;
      this.inFlightUses += message.count;
      void this.publish(message);
    }
    this.updateGauges();
  }

  private async publish(message: SealedMessage): Promise<void> {
    let delivered = false;
    try {
      await this.deps.jetStream.publish(this.deps.subject, message.payload, {
        msgID: message.msgId,
        timeout: this.options.publishTimeoutMs,
      });
      delivered = true;
    } catch (error) {
      metrics.publishFailures.inc();
      this.logFailure(error);
    }
    this.inFlight -= 1;
    this.inFlightUses -= message.count;
    if (delivered) {
      metrics.usesPublished.inc(message.count);
    } else {
      // Back to the front, retried with the same id after the retry delay: a failing NATS is not hammered.
      this.queued.unshift(message);
      this.pausedUntil = Date.now() + this.options.retryDelayMs;
      this.queuedUses += message.count;
    }
    this.updateGauges();
    if (this.pendingMessageCount() === 0) this.idle?.();
    if (delivered) this.pump();
  }

  private undelivered(uses: number, reason: 'queue_full'): void {
    metrics.usesUndelivered.inc({ reason }, uses);
    this.droppedSinceLog += uses;
    const logged = this.dropLog.error(
      { uses: this.droppedSinceLog, reason, pendingMessages: this.pendingMessageCount() },
      'key uses not recorded: the usage publish queue is full (NATS slow or down)',
    );
    if (logged) this.droppedSinceLog = 0;
  }

  private logFailure(error: unknown): void {
    this.failureLog.warn({ err: error, pendingUses: this.pendingUses }, 'key.used publish failed; retrying');
  }

  private updateGauges(): void {
    metrics.pendingMessages.set(this.pendingMessageCount());
    metrics.pendingUses.set(this.pendingUses);
  }
}
