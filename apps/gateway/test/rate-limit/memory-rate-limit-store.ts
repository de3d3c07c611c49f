import { ACTIVE_SPAN_MS } from '../../src/rate-limit/redis-rate-limit-store.js';
import type { CountUpdate, RateLimitStore, SharedCount, WindowTotal } from '../../src/rate-limit/rate-limit-store.js';

/**
 * The store's semantics in memory, for the limiter's unit specs and simulations (the gateway
 * uses RedisRateLimitStore). `down` makes every call reject, as an unreachable Redis does.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  /** Window entry (`keyId:windowSeconds:window`) → replica → its count. */
  readonly windows = new Map<string, Map<string, number>>();
  /** Window entry → replica → when it last reported requests. */
  private readonly activity = new Map<string, Map<string, number>>();
  down = false;

  constructor(private readonly now: () => number = Date.now) {}

  /** A window's total across replicas. */
  total(entry: string): number {
    return [...(this.windows.get(entry)?.values() ?? [])].reduce((sum, count) => sum + count, 0);
  }

  read(keyId: string, windowSeconds: number, window: number, replica: string): Promise<SharedCount> {
    if (this.down) return Promise.reject(new Error('store down'));
    const entry = `${keyId}:${windowSeconds}:${window}`;
    return Promise.resolve({ ...this.windowTotal(entry, replica), own: this.windows.get(entry)?.get(replica) ?? 0 });
  }

  sync(updates: readonly CountUpdate[]): Promise<WindowTotal[]> {
    if (this.down) return Promise.reject(new Error('store down'));
    return Promise.resolve(this.record(updates));
  }

  /** What the store does with a sync when it arrives: the answer may reach the replica later. */
  record(updates: readonly CountUpdate[]): WindowTotal[] {
    return updates.map((update) => {
      const entry = `${update.keyId}:${update.windowSeconds}:${update.window}`;
      const replicas = this.windows.get(entry) ?? new Map<string, number>();
      if (update.own > (replicas.get(update.replica) ?? 0)) replicas.set(update.replica, update.own);
      this.windows.set(entry, replicas);
      if (update.active) {
        const seen = this.activity.get(entry) ?? new Map<string, number>();
        seen.set(update.replica, this.now());
        this.activity.set(entry, seen);
      }
      return this.windowTotal(entry, update.replica);
    });
  }

  private windowTotal(entry: string, replica: string): WindowTotal {
    const now = this.now();
    const seen = [...(this.activity.get(entry) ?? new Map<string, number>())];
    const active = seen.filter(([other, at]) => other !== replica && now - at <= ACTIVE_SPAN_MS).map(([other]) => other);
    return { total: this.total(entry), activeOthers: active.length, rank: active.filter((other) => other < replica).length };
  }
}
