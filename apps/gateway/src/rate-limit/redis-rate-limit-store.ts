import { RedisShards, type RedisClient } from '@app/common';
import type { CountUpdate, RateLimitStore, SharedCount } from './rate-limit-store.js';

const SYNC_COUNT = 'rateLimitSyncCount';
const READ_COUNT = 'rateLimitReadCount';

/**
 * KEYS[1]: the window's hash (replica → its admissions); ARGV: replica, its count, TTL (ms).
 * A replica's field only grows (a late or repeated sync cannot lower it); returns the sum.
 */
const SYNC_COUNT_LUA = `
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local total = 0
for _, count in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(count) end
return total
`;

/** KEYS[1]: the window's hash; ARGV[1]: replica. Returns {sum, the replica's own field}. */
const READ_COUNT_LUA = `
local total = 0
for _, count in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(count) end
return {total, tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')}
`;

type Pipeline = CountCommands & { exec(): Promise<[Error | null, unknown][] | null> };
type CountCommands = {
  [SYNC_COUNT](key: string, replica: string, own: number, ttlMs: number): Promise<number>;
  [READ_COUNT](key: string, replica: string): Promise<[number, number]>;
};

/**
 * Counts in Redis, one hash per key and window, `<prefix>rl:<keyId>:<windowSeconds>:<window>`,
 * with one field per replica holding how many requests that replica forwarded in the window,
 * kept until a minute past the window's end. A replica writes its absolute count, never an
 * increment: a sync retried after a timeout (the first one may have landed) counts nothing twice,
 * and a restarted replica's predecessor keeps its field. No key, hash or client data is stored.
 * On a Redis Cluster the name carries the hash tag of the key's shard after the prefix
 * (`<prefix>{…}rl:…`), so that a sync is one pipeline per shard: a pipeline stays within one slot.
 */
export class RedisRateLimitStore implements RateLimitStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
    private readonly shards: RedisShards = RedisShards.for(redis),
  ) {
    redis.defineCommand(SYNC_COUNT, { numberOfKeys: 1, lua: SYNC_COUNT_LUA });
    redis.defineCommand(READ_COUNT, { numberOfKeys: 1, lua: READ_COUNT_LUA });
  }

  async read(keyId: string, windowSeconds: number, window: number, replica: string): Promise<SharedCount> {
    const commands = this.redis as unknown as CountCommands;
    const [total, own] = await commands[READ_COUNT](this.entry(keyId, windowSeconds, window), replica);
    return { total: Number(total), own: Number(own) };
  }

  /** One pipeline per shard, sent together (one on a single Redis). */
  async sync(updates: readonly CountUpdate[]): Promise<number[]> {
    const byShard = new Map<number, number[]>();
    updates.forEach((update, index) => {
      const shard = this.shards.shardOf(update.keyId);
      const indexes = byShard.get(shard);
      if (indexes) indexes.push(index);
      else byShard.set(shard, [index]);
    });
    const totals: number[] = new Array<number>(updates.length);
    await Promise.all(
      [...byShard.values()].map(async (indexes) => {
        const pipeline = this.redis.pipeline() as unknown as Pipeline;
        for (const index of indexes) {
          const update = updates[index];
          void pipeline[SYNC_COUNT](
            this.entry(update.keyId, update.windowSeconds, update.window),
            update.replica,
            update.own,
            update.ttlMs,
          );
        }
        const results = (await pipeline.exec()) ?? [];
        if (results.length !== indexes.length) throw new Error('Redis answered a partial pipeline');
        results.forEach(([error, total], position) => {
          if (error) throw error;
          totals[indexes[position]] = Number(total);
        });
      }),
    );
    return totals;
  }

  private entry(keyId: string, windowSeconds: number, window: number): string {
    return `${this.keyPrefix}${this.shards.tag(this.shards.shardOf(keyId))}rl:${keyId}:${windowSeconds}:${window}`;
  }
}
