import type { RedisClient } from './redis-client.js';

/** Redis Cluster's slot count: a key's slot is CRC16 of its hash tag (or whole name) modulo this. */
export const CLUSTER_SLOTS = 16_384;

/**
 * How many shards a service spreads its entries over on a Redis Cluster. Each shard is one hash
 * tag, so one slot: whatever one script or pipeline touches lives in one shard. Entries that
 * belong to many keys (an account's plan, a chatbot's owner) are cached once per shard that asks
 * for them and invalidated in every shard, so more shards spread load over more nodes at the
 * cost of more lookups per account and more writes per plan change; 16 shards cover 16 nodes.
 */
export const CLUSTER_SHARDS = 16;

/**
 * Entry names for one Redis or for a cluster. On one Redis there is one shard and no hash tag
 * (names as they always were); on a cluster, shard `i`'s tag hashes into the i-th of
 * `count` equal slot ranges, so the shards are spread evenly over the nodes, which own
 * contiguous slot ranges unless resharded by hand.
 */
export class RedisShards {
  private readonly tags: readonly string[];

  private constructor(readonly count: number) {
    this.tags = count === 1 ? [''] : evenlySpacedTags(count);
  }

  static single(): RedisShards {
    return new RedisShards(1);
  }

  static cluster(count = CLUSTER_SHARDS): RedisShards {
    if (!Number.isInteger(count) || count < 1 || count > CLUSTER_SLOTS) throw new Error('a cluster has 1 to 16384 shards');
    return new RedisShards(count);
  }

  /** Shards as the client needs: one on a single Redis, `CLUSTER_SHARDS` on a cluster. */
  static for(client: RedisClient): RedisShards {
    return client.isCluster ? RedisShards.cluster() : RedisShards.single();
  }

  /** The shard an id's entries live in (stable across processes and versions). */
  shardOf(id: string): number {
    return this.count === 1 ? 0 : crc16(id) % this.count;
  }

  /** `{…}` to put right after the key prefix, or '' on one Redis. */
  tag(shard: number): string {
    const tag = this.tags[shard];
    if (tag === undefined) throw new Error(`no shard ${shard}`);
    return tag;
  }

  all(): number[] {
    return Array.from({ length: this.count }, (_, shard) => shard);
  }
}

/** The slot Redis Cluster gives a key name: CRC16 of the first non-empty `{…}` in it, else of the whole name. */
export function clusterSlot(name: string): number {
  const open = name.indexOf('{');
  const close = open === -1 ? -1 : name.indexOf('}', open + 1);
  const hashed = close > open + 1 ? name.slice(open + 1, close) : name;
  return crc16(hashed) % CLUSTER_SLOTS;
}

/** For each shard, the smallest number whose slot falls in that shard's slot range. */
function evenlySpacedTags(count: number): string[] {
  return Array.from({ length: count }, (_, shard) => {
    const [from, to] = [Math.ceil((shard * CLUSTER_SLOTS) / count), Math.ceil(((shard + 1) * CLUSTER_SLOTS) / count)];
    for (let candidate = 0; ; candidate += 1) {
      const slot = crc16(String(candidate)) % CLUSTER_SLOTS;
      if (slot >= from && slot < to) return `{${candidate}}`;
    }
  });
}

/** CRC16-CCITT (XModem), the checksum Redis Cluster hashes key names with. */
function crc16(input: string): number {
  let crc = 0;
  for (const byte of Buffer.from(input, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}
