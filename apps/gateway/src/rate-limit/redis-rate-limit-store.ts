import { RedisShards, type RedisClient } from '@app/common';
import type { CountUpdate, RateLimitStore, SharedCount, WindowTotal } from './rate-limit-store.js';

const SYNC_COUNT = 'rateLimitSyncCount';
const READ_COUNT = 'rateLimitReadCount';

/** Another replica counts as active while it reported requests with the key within this span. */
export const ACTIVE_SPAN_MS = 1_000;

/**
 * Lua: how many replicas other than ARGV[1] the activity hash KEYS[2] saw within ACTIVE_SPAN_MS
 * of `now`, and how many of those sort before ARGV[1] (its rank: who takes a remainder's odd requests).
 */
const COUNT_ACTIVE = `
local function activeOthers(now)
  local seen = redis.call('HGETALL', KEYS[2])
  local active, before = 0, 0
  for i = 1, #seen, 2 do
    if seen[i] ~= ARGV[1] and now - tonumber(seen[i + 1]) <= ${ACTIVE_SPAN_MS} then
      active = active + 1
      if seen[i] < ARGV[1] then before = before + 1 end
    end
  end
  return active, before
end
local function windowTotal()
  local total = 0
  for _, count in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(count) end
  return total
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/**
 * KEYS[1]: the window's hash (replica → its admissions); KEYS[2]: its activity hash (replica →
 * when it last reported requests, Redis's clock). ARGV: replica, its count, TTL (ms), 1 when it
 * decided requests since its last sync. A replica's count only grows (a late or repeated sync
 * cannot lower it). Returns {sum, other replicas active, its rank among the active}.
 */
const SYNC_COUNT_LUA = `${COUNT_ACTIVE}
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[2], ARGV[1], now)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
local active, rank = activeOthers(now)
return {windowTotal(), active, rank}
`;

/** KEYS as above; ARGV[1]: replica. Returns {sum, the replica's own count, other replicas active, its rank}. */
const READ_COUNT_LUA = `${COUNT_ACTIVE}
local active, rank = activeOthers(now)
return {windowTotal(), tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0'), active, rank}
`;

type Pipeline = CountCommands & { exec(): Promise<[Error | null, unknown][] | null> };
type CountCommands = {
  [SYNC_COUNT](
    key: string,
    activity: string,
    replica: string,
    own: number,
    ttlMs: number,
    active: 0 | 1,
  ): Promise<[number, number, number]>;
  [READ_COUNT](key: string, activity: string, replica: string): Promise<[number, number, number, number]>;
};

/**
 * Counts in Redis, one hash per key and window, `<prefix>rl:<keyId>:<windowSeconds>:<window>`,
 * with one field per replica holding how many requests that replica forwarded in the window,
 * kept until a minute past the window's end. A replica writes its absolute count, never an
 * increment: a sync retried after a timeout (the first one may have landed) counts nothing twice,
 * and a restarted replica's predecessor keeps its field. Beside it, `…:active` holds when each
 * replica last reported requests with the key (Redis's clock): the replicas sharing the key's
 * traffic now, which a dead predecessor is not. No key, hash or client data is stored.
 * On a Redis Cluster the names carry the hash tag of the key's shard after the prefix
 * (`<prefix>{…}rl:…`, the activity hash too), so that a script's two names share a slot and a sync
 * is one pipeline per shard: a pipeline stays within one slot.
 */
export class RedisRateLimitStore implements RateLimitStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
    private readonly shards: RedisShards = RedisShards.for(redis),
  ) {
    redis.defineCommand(SYNC_COUNT, { numberOfKeys: 2, lua: SYNC_COUNT_LUA });
    redis.defineCommand(READ_COUNT, { numberOfKeys: 2, lua: READ_COUNT_LUA });
  }

  async read(keyId: string, windowSeconds: number, window: number, replica: string): Promise<SharedCount> {
    const commands = this.redis as unknown as CountCommands;
    const entry = this.entry(keyId, windowSeconds, window);
    const [total, own, activeOthers, rank] = await commands[READ_COUNT](entry, `${entry}:active`, replica);
    return { total: Number(total), own: Number(own), activeOthers: Number(activeOthers), rank: Number(rank) };
  }

  /** One pipeline per shard, sent together (one on a single Redis). */
  async sync(updates: readonly CountUpdate[]): Promise<WindowTotal[]> {
    const byShard = new Map<number, number[]>();
    updates.forEach((update, index) => {
      const shard = this.shards.shardOf(update.keyId);
      const indexes = byShard.get(shard);
      if (indexes) indexes.push(index);
      else byShard.set(shard, [index]);
    });
    const totals = new Array<WindowTotal>(updates.length);
    await Promise.all(
      [...byShard.values()].map(async (indexes) => {
        const pipeline = this.redis.pipeline() as unknown as Pipeline;
        for (const index of indexes) {
          const update = updates[index];
          const entry = this.entry(update.keyId, update.windowSeconds, update.window);
          void pipeline[SYNC_COUNT](entry, `${entry}:active`, update.replica, update.own, update.ttlMs, update.active ? 1 : 0);
        }
        const results = (await pipeline.exec()) ?? [];
        if (results.length !== indexes.length) throw new Error('Redis answered a partial pipeline');
        results.forEach(([error, answer], position) => {
          if (error) throw error;
          const [total, activeOthers, rank] = answer as [number, number, number];
          totals[indexes[position]] = { total: Number(total), activeOthers: Number(activeOthers), rank: Number(rank) };
        });
      }),
    );
    return totals;
  }

  private entry(keyId: string, windowSeconds: number, window: number): string {
    return `${this.keyPrefix}${this.shards.tag(this.shards.shardOf(keyId))}rl:${keyId}:${windowSeconds}:${window}`;
  }
}
