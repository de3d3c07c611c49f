import type { Redis } from 'ioredis';
import type { CountUpdate, RateLimitStore } from './rate-limit-store.js';

/**
 * Counts in Redis, one integer per key and window: `<prefix>rl:<keyId>:<windowSeconds>:<window>`,
 * kept until a minute past the window's end. No key, hash or client data is stored, only the
 * key id (not a secret) and a count.
 */
export class RedisRateLimitStore implements RateLimitStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async read(keyId: string, windowSeconds: number, window: number): Promise<number> {
    return Number((await this.redis.get(this.entry(keyId, windowSeconds, window))) ?? 0);
  }

  async sync(updates: readonly CountUpdate[]): Promise<number[]> {
    const pipeline = this.redis.pipeline();
    for (const update of updates) {
      const entry = this.entry(update.keyId, update.windowSeconds, update.window);
      // INCRBY 0 is the read of a counter this replica added nothing to since the last sync.
      pipeline.incrby(entry, update.delta);
      pipeline.pexpire(entry, update.ttlMs);
    }
    const results = (await pipeline.exec()) ?? [];
    const totals: number[] = [];
    for (let index = 0; index < results.length; index += 2) {
      const [error, total] = results[index];
      if (error) throw error;
      totals.push(Number(total));
    }
    if (totals.length !== updates.length) throw new Error('Redis answered a partial pipeline');
    return totals;
  }

  private entry(keyId: string, windowSeconds: number, window: number): string {
    return `${this.keyPrefix}rl:${keyId}:${windowSeconds}:${window}`;
  }
}
