import { describe, expect, it } from '@jest/globals';
import { CLUSTER_SLOTS, clusterSlot, RedisShards } from './redis-shards.js';

describe('RedisShards', () => {
  it('has one shard and no hash tag on a single Redis: names stay as they were', () => {
    const sut = RedisShards.single();

    expect(sut.count).toBe(1);
    expect(sut.all()).toEqual([0]);
    expect(sut.shardOf('a'.repeat(64))).toBe(0);
    expect(sut.tag(0)).toBe('');
  });

  it('puts each of a cluster’s shards in its own equal range of slots, so that they spread over the nodes', () => {
    const sut = RedisShards.cluster(16);

    const slots = sut.all().map((shard) => clusterSlot(`cbk:${sut.tag(shard)}key:x`));
    slots.forEach((slot, shard) => {
      expect(slot).toBeGreaterThanOrEqual((shard * CLUSTER_SLOTS) / 16);
      expect(slot).toBeLessThan(((shard + 1) * CLUSTER_SLOTS) / 16);
    });
    expect(sut.all().map((shard) => sut.tag(shard))).toEqual(
      RedisShards.cluster(16)
        .all()
        .map((shard) => RedisShards.cluster(16).tag(shard)),
    );
  });

  it('spreads ids over every shard, the same way in every process', () => {
    const sut = RedisShards.cluster(16);
    const counts = new Array<number>(16).fill(0);
    for (let index = 0; index < 1_600; index += 1) counts[sut.shardOf(`00000000-0000-4000-8000-${String(index).padStart(12, '0')}`)] += 1;

    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(sut.shardOf('key-1')).toBe(RedisShards.cluster(16).shardOf('key-1'));
  });

  it('computes the slot Redis Cluster does: the first non-empty hash tag, else the whole name', () => {
    // Values from Redis' own documentation and CLUSTER KEYSLOT.
    expect(clusterSlot('123456789')).toBe(0x31c3 % CLUSTER_SLOTS);
    expect(clusterSlot('{user1000}.following')).toBe(clusterSlot('user1000'));
    expect(clusterSlot('foo{{bar}}zap')).toBe(clusterSlot('{bar'));
    expect(clusterSlot('foo{bar}{zap}')).toBe(clusterSlot('bar'));
  });
});
