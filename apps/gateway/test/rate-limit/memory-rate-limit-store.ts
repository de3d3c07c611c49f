import type { CountUpdate, RateLimitStore, SharedCount } from '../../src/rate-limit/rate-limit-store.js';

/**
 * The store's semantics in memory, for the limiter's unit specs and simulations (the gateway
 * uses RedisRateLimitStore). `down` makes every call reject, as an unreachable Redis does.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  /** Window entry (`keyId:windowSeconds:window`) → replica → its count. */
  readonly windows = new Map<string, Map<string, number>>();
  down = false;

  /** A window's total across replicas. */
  total(entry: string): number {
    return [...(this.windows.get(entry)?.values() ?? [])].reduce((sum, count) => sum + count, 0);
  }

  read(keyId: string, windowSeconds: number, window: number, replica: string): Promise<SharedCount> {
    if (this.down) return Promise.reject(new Error('store down'));
    const entry = `${keyId}:${windowSeconds}:${window}`;
    return Promise.resolve({ total: this.total(entry), own: this.windows.get(entry)?.get(replica) ?? 0 });
  }

  sync(updates: readonly CountUpdate[]): Promise<number[]> {
    if (this.down) return Promise.reject(new Error('store down'));
    return Promise.resolve(
      updates.map((update) => {
        const entry = `${update.keyId}:${update.windowSeconds}:${update.window}`;
        const replicas = this.windows.get(entry) ?? new Map<string, number>();
        replicas.set(update.replica, Math.max(replicas.get(update.replica) ?? 0, update.own));
        this.windows.set(entry, replicas);
        return this.total(entry);
      }),
    );
  }
}
