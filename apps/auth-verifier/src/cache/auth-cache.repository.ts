import type { Redis } from 'ioredis';
import { ExpiringMap, RateLimitedLog, type Logger } from '@app/common';
import { KeyRecordSchema, PLANS, type KeyRecord, type Plan } from '@app/contracts';
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
 * Entries live in a generation: `<prefix>key:…` in generation 0, `<prefix>g<N>:key:…` after N
 * bumps. A replica that may have missed change events bumps the generation, and from that moment
 * every replica reads and invalidates the new one only: nothing written before is trusted again.
 */
const GENERATION_BASE_LUA = `
local gen = redis.call('GET', KEYS[1]) or '0'
local base = ARGV[1]
if gen ~= '0' then base = base .. 'g' .. gen .. ':' end
`;

/**
 * KEYS[1]: the generation entry; ARGV[1]: the prefix, ARGV[2]: the key hash, ARGV[3]: the chatbot
 * id or ''. Returns the generation, the raw key entry, the account id whose plan was read, that
 * plan and the chatbot entry (nil where not read). Only `cjson` decodes here: validation stays in
 * TypeScript. Entry names are built inside the script: fine on one Redis, not on a Redis Cluster.
 */
const READ_VERIFY_ENTRIES_LUA = `${GENERATION_BASE_LUA}
local key = redis.call('GET', base .. 'key:' .. ARGV[2])
local accountId, plan = false, false
if key and string.sub(key, 1, 1) == '{' then
  local ok, record = pcall(cjson.decode, key)
  if ok and type(record) == 'table' and record.type == 'chatbot' and type(record.accountId) == 'string' then
    accountId = record.accountId
    plan = redis.call('GET', base .. 'plan:' .. accountId)
  end
end
local chatbot = false
if ARGV[3] ~= '' then chatbot = redis.call('GET', base .. 'chatbot:' .. ARGV[3]) end
return {gen, key, accountId, plan, chatbot}
`;

/** KEYS[1]: the generation entry; ARGV: prefix, entry name within the generation. Returns {generation, value}. */
const READ_ONE_LUA = `${GENERATION_BASE_LUA}
return {gen, redis.call('GET', base .. ARGV[2])}
`;

/**
 * An invalidation lands in the generation current when Redis runs it, whatever this replica last
 * read. KEYS[1]: the generation entry; ARGV: prefix, entry name, then a value and a TTL in ms (a SET) or nothing (a DEL).
 */
const INVALIDATE_LUA = `${GENERATION_BASE_LUA}
if ARGV[3] then return redis.call('SET', base .. ARGV[2], ARGV[3], 'PX', ARGV[4]) end
return redis.call('DEL', base .. ARGV[2])
`;

const READ_ONE = 'authVerifierReadOne';
const INVALIDATE = 'authVerifierInvalidate';

type RawVerifyEntries = [generation: string, key: string | null, accountId: string | null, plan: string | null, chatbot: string | null];
type Scripts = {
  [READ_VERIFY_ENTRIES](numberOfKeys: number, ...keysAndArgs: string[]): Promise<RawVerifyEntries>;
  [READ_ONE](numberOfKeys: number, ...keysAndArgs: string[]): Promise<[generation: string, value: string | null]>;
  [INVALIDATE](numberOfKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
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
  /** The generation the last read found: where this replica's lookup answers are written. */
  private generation = '0';
  /** Set from a missed-events notice until Redis has moved to a new generation: Redis is not read meanwhile. */
  private distrusted = false;

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
    redis.defineCommand(READ_ONE, { lua: READ_ONE_LUA });
    redis.defineCommand(INVALIDATE, { lua: INVALIDATE_LUA });
  }

  /**
   * The key entry, the plan of the account a chatbot key's record names and the chatbot
   * entry, in one round trip. Redis unavailable reads every entry as unavailable.
   */
  async readForVerify(keyHash: string, chatbotId: string | null): Promise<VerifyEntries> {
    if (!KEY_HASH.test(keyHash)) throw new Error('a key record is cached by the key hash only');
    const unavailable = { key: UNAVAILABLE, plan: null, chatbot: chatbotId === null ? null : { id: chatbotId, read: UNAVAILABLE } };
    if (this.distrusted) return unavailable;
    let raw: RawVerifyEntries;
    try {
      raw = await this.scripts[READ_VERIFY_ENTRIES](1, this.generationEntry(), this.settings.keyPrefix, keyHash, chatbotId ?? '');
    } catch (error) {
      this.failed(error, 'read');
      return unavailable;
    }
    const [generation, key, accountId, plan, chatbot] = raw;
    this.generation = generation;
    return {
      key: decodeEntry(key, decodeKeyRecord),
      plan: accountId === null ? null : { id: accountId, read: decodeEntry(plan, decodePlan) },
      chatbot: chatbotId === null ? null : { id: chatbotId, read: decodeEntry(chatbot, decodeChatbotOwner) },
    };
  }

  /** A record never outlives the key's end (expiry or grace end): Redis drops it at that instant. */
  setKeyRecord(keyHash: string, record: KeyRecord | null, now = Date.now()): void {
    const write = this.answer(record && JSON.stringify(record));
    if (write && record?.endsAt != null) write.ttlMs = Math.min(write.ttlMs, record.endsAt - now);
    void this.write(this.keyEntry(keyHash), write && write.ttlMs > 0 ? write : null);
  }

  /** After a revocation or a creation: the next verify asks key-management. */
  forgetKeyRecord(keyHash: string): void {
    void this.write(this.keyEntry(keyHash), null, true);
  }

  /**
   * Events may have been missed: moves every replica to a new generation of entries, so nothing
   * written before is read again. Until Redis has taken the move (it may be down), this replica
   * reads nothing from Redis and writes no lookup answers.
   */
  distrustAll(): void {
    this.distrusted = true;
    void this.bumpGeneration();
  }

  private async bumpGeneration(): Promise<void> {
    try {
      this.generation = String(await this.redis.incr(this.generationEntry()));
      this.distrusted = false;
    } catch (error) {
      this.failed(error, 'write');
    }
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
    return value === null ? { value: NONE, ttlMs: this.settings.negativeTtlMs } : { value, ttlMs: this.settings.ttlMs };
  }

  private async read<T>(entry: string, decode: (raw: string) => T): Promise<CacheRead<T>> {
    if (this.distrusted) return UNAVAILABLE;
    let raw: string | null;
    try {
      const [generation, value] = await this.scripts[READ_ONE](1, this.generationEntry(), this.settings.keyPrefix, entry);
      this.generation = generation;
      raw = value;
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
    else if (this.distrusted) return;
    try {
      if (isInvalidation) {
        const value = write ? [write.value, String(write.ttlMs)] : [];
        await this.scripts[INVALIDATE](1, this.generationEntry(), this.settings.keyPrefix, entry, ...value);
      } else {
        const name = this.named(entry);
        if (write) await this.redis.set(name, write.value, 'PX', write.ttlMs);
        else await this.redis.del(name);
      }
    } catch (error) {
      if (isInvalidation) this.pendingInvalidations.set(entry, write);
      this.failed(error, 'write');
    }
  }

  private async replayInvalidations(): Promise<void> {
    if (this.distrusted) await this.bumpGeneration();
    const pending = [...this.pendingInvalidations.drain()];
    for (const [entry, write] of pending) await this.write(entry, write, true);
  }

  private failed(error: unknown, operation: string): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.failures.warn({ operation, reason }, 'Redis unavailable: answering from key-management');
  }

  private get scripts(): Scripts {
    return this.redis as unknown as Scripts;
  }

  private generationEntry(): string {
    return `${this.settings.keyPrefix}generation`;
  }

  /** The Redis name of an entry in the generation this replica last read. */
  private named(entry: string): string {
    const generation = this.generation === '0' ? '' : `g${this.generation}:`;
    return `${this.settings.keyPrefix}${generation}${entry}`;
  }

  /** Entry names within a generation (the prefix and generation are added where the entry is used). */
  private keyEntry(keyHash: string): string {
    if (!KEY_HASH.test(keyHash)) throw new Error('a key record is cached by the key hash only');
    return `key:${keyHash}`;
  }

  private planEntry(accountId: string): string {
    return `plan:${accountId}`;
  }

  private chatbotEntry(chatbotId: string): string {
    return `chatbot:${chatbotId}`;
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
