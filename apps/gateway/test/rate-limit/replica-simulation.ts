import type { RateLimit } from '@app/contracts';
import { DEFAULT_RATE_LIMITER_OPTIONS, KeyRateLimiter, type KeyRateLimiterOptions } from '../../src/rate-limit/key-rate-limiter.js';
import type { CountUpdate, RateLimitStore, SharedCount, WindowTotal } from '../../src/rate-limit/rate-limit-store.js';
import type { RateLimitDecision } from '../../src/rate-limit/window-counter.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';

export interface SimulationOptions {
  replicas: number;
  limit: RateLimit;
  /** Requests per second offered by the client, spread round-robin over the replicas. */
  offeredPerSecond: number;
  durationMs: number;
  syncIntervalMs?: number;
  /** The limiter's other options (to compare variants of the algorithm). */
  limiter?: Partial<KeyRateLimiterOptions>;
  /** Simulated time the run starts at (aligned to a window start unless chosen otherwise). */
  startMs?: number;
  /** Counts already in the store for the first window when the run starts. */
  preloaded?: number;
  /** The store's round trip (ms): an answer reaches its replica this long after the sync left. */
  storeLatencyMs?: number;
  /**
   * Every replica's process stops for `forMs` every `everyMs` (phases spread over the replicas),
   * as a starved or garbage-collecting process does: requests and store answers queue meanwhile.
   */
  stall?: { everyMs: number; forMs: number };
  /** The client sends what it owes in bursts every this many ms (0: evenly). */
  clientBurstMs?: number;
}

export interface SimulationResult {
  /** Admitted requests per fixed window (replicas together), in window order. */
  admittedPerWindow: number[];
  refused: number;
  offered: number;
}

const KEY_ID = 'key-1';

/** One replica's connection to the shared store: the store acts when a call arrives, the answer comes back after the round trip. */
class DelayedStore implements RateLimitStore {
  readonly answers: { at: number; deliver: () => void }[] = [];

  constructor(
    private readonly store: MemoryRateLimitStore,
    private readonly latencyMs: number,
    private readonly clock: { now: number },
  ) {}

  read(keyId: string, windowSeconds: number, window: number, replica: string): Promise<SharedCount> {
    return this.later(this.store.read(keyId, windowSeconds, window, replica));
  }

  sync(updates: readonly CountUpdate[]): Promise<WindowTotal[]> {
    return this.later(Promise.resolve(this.store.record(updates)));
  }

  private later<T>(answer: Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      this.answers.push({ at: this.clock.now + this.latencyMs, deliver: () => void answer.then(resolve, reject) });
    });
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Several limiters sharing one store, driven by a simulated clock in whole milliseconds:
 * arrivals spread over time and round-robin over the replicas, each replica syncing every
 * interval at its own phase, optionally with a store round trip and processes that stall.
 * Deterministic, so a spec can assert the bounds exactly.
 */
export async function simulateReplicas(options: SimulationOptions): Promise<SimulationResult> {
  const syncIntervalMs = options.syncIntervalMs ?? 50;
  const windowMs = options.limit.windowSeconds * 1000;
  const startMs = options.startMs ?? windowMs * 1_000_000;
  const clock = { now: startMs };
  const store = new MemoryRateLimitStore(() => clock.now);
  if (options.preloaded) {
    const entry = `${KEY_ID}:${options.limit.windowSeconds}:${Math.floor(startMs / windowMs)}`;
    store.windows.set(entry, new Map([['earlier replicas', options.preloaded]]));
  }
  const replicas = Array.from({ length: options.replicas }, (_, index) => {
    const link = new DelayedStore(store, options.storeLatencyMs ?? 0, clock);
    const limiter = new KeyRateLimiter(link, { ...DEFAULT_RATE_LIMITER_OPTIONS, ...options.limiter, syncIntervalMs }, () => clock.now);
    // Phases spread over the interval, as independent processes' timers are.
    const phase = Math.floor((index * syncIntervalMs) / options.replicas);
    const stallPhase = options.stall ? Math.floor((index * options.stall.everyMs) / options.replicas) : 0;
    return { link, limiter, phase, stallPhase, nextSync: phase, queue: 0 };
  });
  const admitted = new Map<number, number>();
  let refused = 0;
  let offered = 0;
  let owed = 0;
  let next = 0;
  const record = (decision: RateLimitDecision) => {
    const window = Math.floor(clock.now / windowMs);
    if (decision.allowed) admitted.set(window, (admitted.get(window) ?? 0) + 1);
    else refused += 1;
  };
  const stalled = (replica: (typeof replicas)[number], elapsed: number) =>
    options.stall !== undefined && (elapsed + options.stall.everyMs - replica.stallPhase) % options.stall.everyMs < options.stall.forMs;

  for (let elapsed = 0; elapsed < options.durationMs; elapsed++) {
    clock.now = startMs + elapsed;
    owed += options.offeredPerSecond / 1000;
    const burst = options.clientBurstMs ?? 0;
    if (burst === 0 || elapsed % burst === 0) {
      while (owed >= 1) {
        owed -= 1;
        offered += 1;
        replicas[next++ % replicas.length].queue += 1;
      }
    }
    let waiting = false;
    for (const replica of replicas) {
      if (stalled(replica, elapsed)) continue;
      // A timer that came due while the process stood still fires once, first.
      if (elapsed >= replica.nextSync) {
        void replica.limiter.sync();
        replica.nextSync = elapsed + syncIntervalMs - ((elapsed - replica.phase) % syncIntervalMs);
      }
      const due = replica.link.answers.filter((answer) => answer.at <= clock.now);
      if (due.length > 0) {
        replica.link.answers.splice(0, due.length);
        for (const answer of due) answer.deliver();
        await settle();
      }
      for (; replica.queue > 0; replica.queue--) {
        const decision = replica.limiter.decide(KEY_ID, options.limit);
        if (decision) record(decision);
        else {
          waiting = true;
          void replica.limiter.decideAfterLoad(KEY_ID, options.limit).then(record);
        }
      }
    }
    if (waiting) await settle();
  }
  return { admittedPerWindow: [...admitted.entries()].sort(([a], [b]) => a - b).map(([, count]) => count), refused, offered };
}
