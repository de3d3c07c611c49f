import type { CountUpdate, RateLimitStore } from '../rate-limit-store.js';

/**
 * The store's semantics in memory, for the limiter's unit specs and simulations (the gateway
 * uses RedisRateLimitStore). `down` makes every call reject, as an unreachable Redis does.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly counts = new Map<string, number>();
  down = false;

  read(keyId: string, windowSeconds: number, window: number): Promise<number> {
    if (this.down) return Promise.reject(new Error('store down'));
    return Promise.resolve(this.counts.get(`${keyId}:${windowSeconds}:${window}`) ?? 0);
  }

  sync(updates: readonly CountUpdate[]): Promise<number[]> {
    if (this.down) return Promise.reject(new Error('store down'));
    return Promise.resolve(
      updates.map((update) => {
        const entry = `${update.keyId}:${update.windowSeconds}:${update.window}`;
        const total = (this.counts.get(entry) ?? 0) + update.delta;
        this.counts.set(entry, total);
        return total;
      }),
    );
  }
}
