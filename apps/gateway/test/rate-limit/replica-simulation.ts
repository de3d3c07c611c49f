import type { RateLimit } from '@app/contracts';
import { DEFAULT_RATE_LIMITER_OPTIONS, KeyRateLimiter } from '../../src/rate-limit/key-rate-limiter.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';

export interface SimulationOptions {
  replicas: number;
  limit: RateLimit;
  /** Requests per second offered by the client, spread round-robin over the replicas. */
  offeredPerSecond: number;
  durationMs: number;
  syncIntervalMs?: number;
  predictOthers?: boolean;
  /** Simulated time the run starts at (aligned to a window start unless chosen otherwise). */
  startMs?: number;
  /** Counts already in the store for the first window when the run starts. */
  preloaded?: number;
}

export interface SimulationResult {
  /** Admitted requests per fixed window (replicas together), in window order. */
  admittedPerWindow: number[];
  refused: number;
  offered: number;
}

const KEY_ID = 'key-1';

/**
 * Several limiters sharing one store, driven by a simulated clock in whole milliseconds:
 * arrivals spread evenly over time and round-robin over the replicas, each replica syncing
 * every interval at its own phase. Deterministic, so a spec can assert the bounds exactly.
 */
export async function simulateReplicas(options: SimulationOptions): Promise<SimulationResult> {
  const syncIntervalMs = options.syncIntervalMs ?? 50;
  const windowMs = options.limit.windowSeconds * 1000;
  const startMs = options.startMs ?? windowMs * 1_000_000;
  let now = startMs;
  const store = new MemoryRateLimitStore();
  if (options.preloaded) {
    const entry = `${KEY_ID}:${options.limit.windowSeconds}:${Math.floor(startMs / windowMs)}`;
    store.windows.set(entry, new Map([['earlier replicas', options.preloaded]]));
  }
  const limiters = Array.from(
    { length: options.replicas },
    () =>
      new KeyRateLimiter(
        store,
        { ...DEFAULT_RATE_LIMITER_OPTIONS, syncIntervalMs, predictOthers: options.predictOthers ?? true },
        () => now,
      ),
  );
  const admitted = new Map<number, number>();
  let refused = 0;
  let offered = 0;
  let owed = 0;
  let next = 0;
  for (let elapsed = 0; elapsed < options.durationMs; elapsed++) {
    now = startMs + elapsed;
    for (let replica = 0; replica < limiters.length; replica++) {
      // Phases spread over the interval, as independent processes' timers are.
      if ((elapsed + Math.floor((replica * syncIntervalMs) / limiters.length)) % syncIntervalMs === 0) await limiters[replica].sync();
    }
    owed += options.offeredPerSecond / 1000;
    while (owed >= 1) {
      owed -= 1;
      offered += 1;
      const limiter = limiters[next++ % limiters.length];
      const decision = limiter.decide(KEY_ID, options.limit) ?? (await limiter.decideAfterLoad(KEY_ID, options.limit));
      const window = Math.floor(now / windowMs);
      if (decision.allowed) admitted.set(window, (admitted.get(window) ?? 0) + 1);
      else refused += 1;
    }
  }
  return { admittedPerWindow: [...admitted.entries()].sort(([a], [b]) => a - b).map(([, count]) => count), refused, offered };
}
