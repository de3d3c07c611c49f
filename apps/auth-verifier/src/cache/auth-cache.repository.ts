import type { Redis } from 'ioredis';
import { RateLimitedLog, type Logger } from '@app/common';
import { KeyRecordSchema, PLANS, type KeyRecord, type Plan } from '@app/contracts';
import { ExpiringMap } from '../shared/expiring-map.js';
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

/** An entry read along with another: `id` names the account or chatbot it belongs to. */
export interface ReadAlong<T> {
  id: string;
  read: CacheRead<T>;
}

/** Everything a verify may need from Redis, read in one round trip. */
export interface VerifyEntries {
  key: CacheRead<KeyRecord>;
  /** The plan of the account a cached chatbot key's record names; null when there was none to read. */
  plan: ReadAlong<Plan> | null;
  /** The entry of the chatbot asked for; null when none was given. */
  chatbot: ReadAlong<string> | null;
}

const READ_VERIFY_ENTRIES = 'authVerifierReadEntries';

/**
 * KEYS: the key entry, then the chatbot entry if any; ARGV[1]: the plan entries' prefix.
 * Returns the raw key entry, the account id whose plan was read, that plan and the chatbot
 * entry (nil where not read). Only `cjson` decodes here: validation stays in TypeScript.
 * The plan entry is named inside the script, not passed in KEYS: fine on one Redis, not on
 * a Redis Cluster (it may live in another slot).
 */
const READ_VERIFY_ENTRIES_LUA = `
local key = redis.call('GET', KEYS[1])
local accountId, plan = false, false
if key and string.sub(key, 1, 1) == '{' then
  local ok, record = pcall(cjson.decode, key)
  if ok and type(record) == 'table' and record.type == 'chatbot' and type(record.accountId) == 'string' then
    accountId = record.accountId
    plan = redis.call('GET', ARGV[1] .. accountId)
  end
end
local chatbot = false
if KEYS[2] then chatbot = redis.call('GET', KEYS[2]) end
return {key, accountId, plan, chatbot}
`;

type RawVerifyEntries = [key: string | null, accountId: string | null, plan: string | null, chatbot: string | null];
type VerifyEntriesReader = {
  [READ_VERIFY_ENTRIES](numberOfKeys: number, ...keysAndArgs: string[]): Promise<RawVerifyEntries>;
};

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
    // ioredis sends EVAL once per connection, EVALSHA after that, and EVAL again after a NOSCRIPT.
    redis.defineCommand(READ_VERIFY_ENTRIES, { lua: READ_VERIFY_ENTRIES_LUA });
  }

  /**
   * The key entry, the plan of the account a chatbot key's record names and the chatbot
   * entry, in one round trip. Redis unavailable reads every entry as unavailable.
   */
  async readForVerify(keyHash: string, chatbotId: string | null): Promise<VerifyEntries> {
    const keys = chatbotId === null ? [this.keyEntry(keyHash)] : [this.keyEntry(keyHash), this.chatbotEntry(chatbotId)];
    let raw: RawVerifyEntries;
    try {
      const reader = this.redis as unknown as VerifyEntriesReader;
      raw = await reader[READ_VERIFY_ENTRIES](keys.length, ...keys, this.planEntry(''));
    } catch (error) {
      this.failed(error, 'read');
      return { key: UNAVAILABLE, plan: null, chatbot: chatbotId === null ? null : { id: chatbotId, read: UNAVAILABLE } };
    }
    const [key, accountId, plan, chatbot] = raw;
    return {
      key: decodeEntry(key, decodeKeyRecord),
      plan: accountId === null ? null : { id: accountId, read: decodeEntry(plan, decodePlan) },
      chatbot: chatbotId === null ? null : { id: chatbotId, read: decodeEntry(chatbot, decodeChatbotOwner) },
    };
  }

  setKeyRecord(keyHash: string, record: KeyRecord | null): void {
    void this.write(this.keyEntry(keyHash), this.answer(record && JSON.stringify(record)));
  }

  /** After a revocation or a creation: the next verify asks key-management. */
  forgetKeyRecord(keyHash: string): void {
    void this.write(this.keyEntry(keyHash), null, true);
  }

  getPlan(accountId: string): Promise<CacheRead<Plan>> {
    return this.read(this.planEntry(accountId), decodePlan);
  }

  setPlan(accountId: string, plan: Plan | null): void {
    void this.write(this.planEntry(accountId), this.answer(plan));
  }

  /** A plan change as key-management announced it: written for the full TTL, replayed if Redis is down. */
  storePlanChange(accountId: string, plan: Plan): void {
    void this.write(this.planEntry(accountId), { value: plan, ttlMs: this.settings.ttlMs }, true);
  }

  getChatbotOwner(chatbotId: string): Promise<CacheRead<string>> {
    return this.read(this.chatbotEntry(chatbotId), decodeChatbotOwner);
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
    return decodeEntry(raw, decode);
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

function decodeEntry<T>(raw: string | null, decode: (raw: string) => T): CacheRead<T> {
  if (raw === null) return MISS;
  if (raw === NONE) return hit<T>(null);
  try {
    return hit(decode(raw));
  } catch {
    // Not something this code wrote (or an older format): ask key-management instead.
    return MISS;
  }
}

function decodeKeyRecord(raw: string): KeyRecord {
  return KeyRecordSchema.parse(JSON.parse(raw));
}

function decodePlan(raw: string): Plan {
  if (!(PLANS as readonly string[]).includes(raw)) throw new Error('not a plan');
  return raw as Plan;
}

function decodeChatbotOwner(raw: string): string {
  return raw;
}
