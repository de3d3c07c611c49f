import type { Redis } from 'ioredis';
import type { Logger } from '@app/common';
import { KeyRecordSchema, PLANS, type KeyRecord, type Plan } from '@app/contracts';
import { ExpiringMap } from '../shared/expiring-map.js';
import { RateLimitedLog } from '../shared/rate-limited-log.js';
import { MISS, UNAVAILABLE, hit, type CacheRead } from './cache-read.js';

export interface AuthCacheSettings {
  keyPrefix: string;
  ttlMs: number;
  negativeTtlMs: number;
  /** Bound on invalidations kept to replay after a Redis outage. */
  maxPendingInvalidations: number;
}

/** Stored instead of a value when key-management said there is none (unknown key, deleted chatbot). */
const NONE = '!none';
const KEY_HASH = /^[0-9a-f]{64}$/;

type Write = { value: string; ttlMs: number } | null;

/**
 * The verifier's Redis cache of key-management lookups. A key record is found by the key's
 * SHA-256 only: no cache key or value ever holds a plaintext key.
 *
 * Redis is an accelerator, never a dependency: every failure reads as a miss (the caller
 * asks key-management) and every failed write is dropped, except invalidations, which are
 * replayed once Redis is back so that it cannot serve an entry a change made stale.
 */
export class AuthCacheRepository {
  private readonly failures: RateLimitedLog;
  private readonly pendingInvalidations: ExpiringMap<string, Write>;

  constructor(
    private readonly redis: Redis,
    private readonly settings: AuthCacheSettings,
    logger: Logger,
  ) {
    this.failures = new RateLimitedLog(logger);
    // An entry older than the positive TTL has expired in Redis by itself: no need to replay it.
    this.pendingInvalidations = new ExpiringMap({ ttlMs: settings.ttlMs, maxEntries: settings.maxPendingInvalidations });
    redis.on('ready', () => void this.replayInvalidations());
  }

  getKeyRecord(keyHash: string): Promise<CacheRead<KeyRecord>> {
    return this.read(this.keyEntry(keyHash), (raw) => KeyRecordSchema.parse(JSON.parse(raw)));
  }

  setKeyRecord(keyHash: string, record: KeyRecord | null): void {
    void this.write(this.keyEntry(keyHash), this.answer(record && JSON.stringify(record)));
  }

  /** After a revocation or a creation: the next verify asks key-management. */
  forgetKeyRecord(keyHash: string): void {
    void this.write(this.keyEntry(keyHash), null, true);
  }

  getPlan(accountId: string): Promise<CacheRead<Plan>> {
    return this.read(this.planEntry(accountId), (raw) => {
      if (!(PLANS as readonly string[]).includes(raw)) throw new Error('not a plan');
      return raw as Plan;
    });
  }

  setPlan(accountId: string, plan: Plan | null): void {
    void this.write(this.planEntry(accountId), this.answer(plan));
  }

  /** A plan change as key-management announced it: written for the full TTL, replayed if Redis is down. */
  storePlanChange(accountId: string, plan: Plan): void {
    void this.write(this.planEntry(accountId), { value: plan, ttlMs: this.settings.ttlMs }, true);
  }

  getChatbotOwner(chatbotId: string): Promise<CacheRead<string>> {
    return this.read(this.chatbotEntry(chatbotId), (raw) => raw);
  }

  setChatbotOwner(chatbotId: string, accountId: string | null): void {
    void this.write(this.chatbotEntry(chatbotId), this.answer(accountId));
  }

  /** A deleted chatbot never comes back: cached as gone for the full TTL, not the short negative one. */
  storeChatbotDeleted(chatbotId: string): void {
    void this.write(this.chatbotEntry(chatbotId), { value: NONE, ttlMs: this.settings.ttlMs }, true);
  }

  private answer(value: string | null): Write {
    return value === null
      ? { value: NONE, ttlMs: this.settings.negativeTtlMs }
      : { value, ttlMs: this.settings.ttlMs };
  }

  private async read<T>(entry: string, decode: (raw: string) => T): Promise<CacheRead<T>> {
    let raw: string | null;
    try {
      raw = await this.redis.get(entry);
    } catch (error) {
      this.failed(error, 'read');
      return UNAVAILABLE;
    }
    if (raw === null) return MISS;
    if (raw === NONE) return hit<T>(null);
    try {
      return hit(decode(raw));
    } catch {
      // Not something this code wrote (or an older format): ask key-management instead.
      return MISS;
    }
  }

  /**
   * Issues the command synchronously (before the first await), so writes leave in call
   * order: a change event's write always lands after a lookup result written before it.
   */
  private async write(entry: string, write: Write, isInvalidation = false): Promise<void> {
    if (isInvalidation) this.pendingInvalidations.delete(entry);
    try {
      if (write) await this.redis.set(entry, write.value, 'PX', write.ttlMs);
      else await this.redis.del(entry);
    } catch (error) {
      if (isInvalidation) this.pendingInvalidations.set(entry, write);
      this.failed(error, 'write');
    }
  }

  private async replayInvalidations(): Promise<void> {
    const pending = [...this.pendingInvalidations.drain()];
    for (const [entry, write] of pending) await this.write(entry, write, true);
  }

  private failed(error: unknown, operation: string): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.failures.warn({ operation, reason }, 'Redis unavailable: answering from key-management');
  }

  private keyEntry(keyHash: string): string {
    if (!KEY_HASH.test(keyHash)) throw new Error('a key record is cached by the key hash only');
    return `${this.settings.keyPrefix}key:${keyHash}`;
  }

  private planEntry(accountId: string): string {
    return `${this.settings.keyPrefix}plan:${accountId}`;
  }

  private chatbotEntry(chatbotId: string): string {
    return `${this.settings.keyPrefix}chatbot:${chatbotId}`;
  }
}
