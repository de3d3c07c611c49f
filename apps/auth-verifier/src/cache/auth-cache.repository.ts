import { ExpiringMap, onRedisReady, RateLimitedLog, RedisShards, type Logger, type RedisClient } from '@app/common';
import type { KeyRecord, Plan } from '@app/contracts';
import { UNAVAILABLE, type CacheRead } from './cache-read.js';
import {
  CacheNames,
  chatbotEntry,
  decodeChatbotOwner,
  decodeEntry,
  decodeKeyRecord,
  decodePlan,
  keyEntry,
  NONE,
  planEntry,
  plansEntry,
  type Entry,
} from './cache-entries.js';
import { INVALIDATE_LUA, READ_ENTRY_LUA, READ_VERIFY_ENTRIES_LUA, WRITE_PLAN_LUA } from './cache-scripts.js';

export interface AuthCacheSettings {
  keyPrefix: string;
  ttlMs: number;
  negativeTtlMs: number;
  /** Bound on invalidations kept to replay after a Redis outage. */
  maxPendingInvalidations: number;
}

/** A verify reads again at most this often after finding its shard's generation moved on. */
const GENERATION_ATTEMPTS = 2;

type Write = { value: string; ttlMs: number } | null;

/** An entry read along with another: `id` names the account or chatbot it belongs to. */
export interface ReadAlong<T> {
  id: string;
  read: CacheRead<T>;
}

/** Everything a verify may need from Redis, read in one round trip. */
export interface VerifyEntries {
  /** Where the key's entries live: the plan and chatbot entries this verify caches go there too. */
  shard: number;
  key: CacheRead<KeyRecord>;
  /** The plan of the account a cached chatbot key's record names; null when there was none to read. */
  plan: ReadAlong<Plan> | null;
  /** The entry of the chatbot asked for; null when none was given. */
  chatbot: ReadAlong<string> | null;
}

const READ_VERIFY_ENTRIES = 'authVerifierReadEntries';
const READ_ENTRY = 'authVerifierReadEntry';
const INVALIDATE = 'authVerifierInvalidate';
const WRITE_PLAN = 'authVerifierWritePlan';

type RawVerifyEntries = [generation: string, key?: string | null, accountId?: string | null, plan?: string | null, chatbot?: string | null];
type Scripts = {
  [READ_VERIFY_ENTRIES](numberOfKeys: number, ...keysAndArgs: string[]): Promise<RawVerifyEntries>;
  [READ_ENTRY](numberOfKeys: number, ...keysAndArgs: string[]): Promise<[generation: string, value?: string | null]>;
  [INVALIDATE](numberOfKeys: number, ...keysAndArgs: string[]): Promise<[generation: string, done: number]>;
  [WRITE_PLAN](numberOfKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
};

/**
 * The verifier's Redis cache of key-management lookups. A key record is found by the key's
 * SHA-256 only: no cache key or value ever holds a plaintext key.
 *
 * Entries live in shards (one on a single Redis, `CLUSTER_SHARDS` on a Redis Cluster): a key's
 * record in the shard of its hash, and the plan and chatbot entries a verify of that key needs
 * beside it, so that one script reads them all in one round trip on a cluster too, every name
 * it touches declared. Plans are fields of one hash per shard (`plans`): the account is known
 * only once the record is read, inside the script. Plan changes and deleted chatbots are written
 * to every shard.
 *
 * Each shard has a generation: its entries are `<prefix><tag>key:…` in generation 0 and
 * `<prefix><tag>g<N>:key:…` after N bumps. A replica that may have missed change events bumps
 * every shard's generation, and from that moment every replica reads and invalidates the new one
 * only: nothing written before is trusted again. Scripts are given the generation the replica
 * last saw and touch nothing when it has moved on; the replica then asks again with the new one.
 *
 * Redis is an accelerator, never a dependency: every failure reads as a miss (the caller
 * asks key-management) and every failed write is dropped, except invalidations, which are
 * replayed once Redis is back so that it cannot serve an entry a change made stale.
 */
export class AuthCacheRepository {
  private readonly failures: RateLimitedLog;
  private readonly pendingInvalidations: ExpiringMap<string, { shard: number; entry: Entry; write: Write }>;
  /** Per shard, the generation the last read found: where this replica's lookup answers are written. */
  private readonly generations: string[];
  /** Shards whose generation a missed-events notice asked to bump and Redis has not yet: not read meanwhile. */
  private readonly distrusted = new Set<number>();
  private readonly names: CacheNames;

  constructor(
    private readonly redis: RedisClient,
    private readonly settings: AuthCacheSettings,
    logger: Logger,
    private readonly shards: RedisShards = RedisShards.for(redis),
  ) {
    this.failures = new RateLimitedLog(logger);
    this.names = new CacheNames(settings.keyPrefix, shards);
    this.generations = shards.all().map(() => '0');
    // An entry older than the positive TTL has expired in Redis by itself: no need to replay it.
    this.pendingInvalidations = new ExpiringMap({ ttlMs: settings.ttlMs, maxEntries: settings.maxPendingInvalidations });
    onRedisReady(redis, () => void this.replayInvalidations());
    // ioredis sends EVAL once per connection, EVALSHA after that, and EVAL again after a NOSCRIPT.
    redis.defineCommand(READ_VERIFY_ENTRIES, { lua: READ_VERIFY_ENTRIES_LUA });
    redis.defineCommand(READ_ENTRY, { lua: READ_ENTRY_LUA });
    redis.defineCommand(INVALIDATE, { lua: INVALIDATE_LUA });
    redis.defineCommand(WRITE_PLAN, { lua: WRITE_PLAN_LUA });
  }

  /**
   * The key entry, the plan of the account a chatbot key's record names and the chatbot
   * entry, in one round trip. Redis unavailable reads every entry as unavailable.
   */
  async readForVerify(keyHash: string, chatbotId: string | null): Promise<VerifyEntries> {
    const keyRecord = keyEntry(keyHash);
    const shard = this.shards.shardOf(keyHash);
    const unavailable = {
      shard,
      key: UNAVAILABLE,
      plan: null,
      chatbot: chatbotId === null ? null : { id: chatbotId, read: UNAVAILABLE },
    };
    if (this.distrusted.has(shard)) return unavailable;
    for (let attempt = 0; attempt < GENERATION_ATTEMPTS; attempt += 1) {
      const generation = this.generations[shard];
      const entries = [keyRecord, plansEntry(), ...(chatbotId === null ? [] : [chatbotEntry(chatbotId)])];
      const keys = [this.names.generation(shard), ...entries.map((entry) => this.names.named(shard, generation, entry))];
      let raw: RawVerifyEntries;
      try {
        raw = await this.scripts[READ_VERIFY_ENTRIES](keys.length, ...keys, generation, String(Date.now()));
      } catch (error) {
        this.failed(error, 'read');
        return unavailable;
      }
      const [found, key = null, accountId = null, plan = null, chatbot = null] = raw;
      if (found !== generation) {
        this.generations[shard] = found;
        continue;
      }
      return {
        shard,
        key: decodeEntry(key, decodeKeyRecord),
        plan: accountId === null ? null : { id: accountId, read: decodeEntry(plan, decodePlan) },
        chatbot: chatbotId === null ? null : { id: chatbotId, read: decodeEntry(chatbot, decodeChatbotOwner) },
      };
    }
    return unavailable;
  }

  /** A record never outlives the key's end (expiry or grace end): Redis drops it at that instant. */
  setKeyRecord(keyHash: string, record: KeyRecord | null, now = Date.now()): void {
    const entry = keyEntry(keyHash);
    const write = this.answer(record && JSON.stringify(record));
    if (write && record?.endsAt != null) write.ttlMs = Math.min(write.ttlMs, record.endsAt - now);
    void this.write(this.shards.shardOf(keyHash), entry, write && write.ttlMs > 0 ? write : null);
  }

  /** After a revocation or a creation: the next verify asks key-management. */
  forgetKeyRecord(keyHash: string): void {
    const entry = keyEntry(keyHash);
    void this.invalidate(this.shards.shardOf(keyHash), entry, null);
  }

  /**
   * Events may have been missed: moves every replica to a new generation of entries in every
   * shard, so nothing written before is read again. Until Redis has taken the move for a shard
   * (its node may be down), this replica reads nothing from it and writes no lookup answers to it.
   */
  distrustAll(): void {
    for (const shard of this.shards.all()) this.distrusted.add(shard);
    void this.bumpGenerations();
  }

  private async bumpGenerations(): Promise<void> {
    await Promise.all(
      [...this.distrusted].map(async (shard) => {
        try {
          this.generations[shard] = String(await this.redis.incr(this.names.generation(shard)));
          this.distrusted.delete(shard);
        } catch (error) {
          this.failed(error, 'write');
        }
      }),
    );
  }

  /** `shard`: where the verify that needs the plan reads its entries (`VerifyEntries.shard`). */
  getPlan(accountId: string, shard: number): Promise<CacheRead<Plan>> {
    return this.read(shard, planEntry(accountId), decodePlan);
  }

  setPlan(accountId: string, plan: Plan | null, shard: number): void {
    void this.write(shard, planEntry(accountId), this.answer(plan));
  }

  /** A plan change as key-management announced it: written for the full TTL in every shard, replayed if Redis is down. */
  storePlanChange(accountId: string, plan: Plan): void {
    for (const shard of this.shards.all()) void this.invalidate(shard, planEntry(accountId), { value: plan, ttlMs: this.settings.ttlMs });
  }

  getChatbotOwner(chatbotId: string, shard: number): Promise<CacheRead<string>> {
    return this.read(shard, chatbotEntry(chatbotId), decodeChatbotOwner);
  }

  setChatbotOwner(chatbotId: string, accountId: string | null, shard: number): void {
    void this.write(shard, chatbotEntry(chatbotId), this.answer(accountId));
  }

  /** A deleted chatbot never comes back: cached as gone for the full TTL (not the short negative one), in every shard. */
  storeChatbotDeleted(chatbotId: string): void {
    for (const shard of this.shards.all()) {
      void this.invalidate(shard, chatbotEntry(chatbotId), { value: NONE, ttlMs: this.settings.ttlMs });
    }
  }

  private answer(value: string | null): Write {
    return value === null ? { value: NONE, ttlMs: this.settings.negativeTtlMs } : { value, ttlMs: this.settings.ttlMs };
  }

  private async read<T>(shard: number, entry: Entry, decode: (raw: string) => T): Promise<CacheRead<T>> {
    if (this.distrusted.has(shard)) return UNAVAILABLE;
    for (let attempt = 0; attempt < GENERATION_ATTEMPTS; attempt += 1) {
      const generation = this.generations[shard];
      let raw: [string, (string | null)?];
      try {
        const keys = [this.names.generation(shard), this.names.named(shard, generation, entry)];
        const field = entry.field === undefined ? [] : [String(Date.now()), entry.field];
        raw = await this.scripts[READ_ENTRY](keys.length, ...keys, generation, ...field);
      } catch (error) {
        this.failed(error, 'read');
        return UNAVAILABLE;
      }
      const [found, value = null] = raw;
      if (found === generation) return decodeEntry(value, decode);
      this.generations[shard] = found;
    }
    return UNAVAILABLE;
  }

  /**
   * A lookup answer, written where this replica last read (an answer written into a generation
   * that has since moved on is never read). Issues the command synchronously (before the first
   * await), so writes leave in call order: a change event's write always lands after a lookup
   * result written before it.
   */
  private async write(shard: number, entry: Entry, write: Write): Promise<void> {
    if (this.distrusted.has(shard)) return;
    const name = this.names.named(shard, this.generations[shard], entry);
    try {
      if (entry.field !== undefined) {
        if (write) await this.scripts[WRITE_PLAN](1, name, entry.field, write.value, String(write.ttlMs), String(Date.now()));
      } else if (write) await this.redis.set(name, write.value, 'PX', write.ttlMs);
      else await this.redis.del(name);
    } catch (error) {
      this.failed(error, 'write');
    }
  }

  /**
   * An invalidation lands in the generation current when Redis runs it, whatever this replica
   * last read: the script refuses a stale generation and the write is sent again with the new one.
   */
  private async invalidate(shard: number, entry: Entry, write: Write): Promise<void> {
    const pendingKey = `${shard}\n${entry.name}\n${entry.field ?? ''}`;
    this.pendingInvalidations.delete(pendingKey);
    const value = write ? [write.value, String(write.ttlMs)] : [];
    try {
      for (let attempt = 0; attempt < GENERATION_ATTEMPTS + 1; attempt += 1) {
        const generation = this.generations[shard];
        const keys = [this.names.generation(shard), this.names.named(shard, generation, entry)];
        const [found, done] = await this.scripts[INVALIDATE](
          keys.length,
          ...keys,
          generation,
          String(Date.now()),
          entry.field ?? '',
          ...value,
        );
        if (done === 1) return;
        this.generations[shard] = found;
      }
      throw new Error('the generation kept moving');
    } catch (error) {
      this.pendingInvalidations.set(pendingKey, { shard, entry, write });
      this.failed(error, 'write');
    }
  }

  private async replayInvalidations(): Promise<void> {
    if (this.distrusted.size > 0) await this.bumpGenerations();
    const pending = [...this.pendingInvalidations.drain()];
    for (const [, { shard, entry, write }] of pending) await this.invalidate(shard, entry, write);
  }

  private failed(error: unknown, operation: string): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.failures.warn({ operation, reason }, 'Redis unavailable: answering from key-management');
  }

  private get scripts(): Scripts {
    return this.redis as unknown as Scripts;
  }
}
