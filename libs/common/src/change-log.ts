import { ExpiringMap } from './expiring-map.js';

export interface ChangeLogOptions<Refused extends string> {
  /** The bound of each memory: change numbers, settling entries, and the refusals of each kind. */
  maxEntries: number;
  /** How long after a change made with `settle` the entry is settling: another replica may not have seen the change yet. */
  settleMs: number;
  /**
   * How long a change's number is kept. Forgetting one raises the floor, so any value is safe; one
   * longer than a lookup can be in flight only keeps lookups from being overtaken by forgetting.
   * Default: kept until pushed out past `maxEntries`.
   */
  numbersKeptMs?: number;
  /** How long each kind of refusal is remembered (a revoked key, a deleted chatbot …). */
  refusalMs: Record<Refused, number>;
  /** The clock used when a call names no `now` (default `Date.now`, read at each call). */
  now?: () => number;
}

export interface ChangeLogSizes<Refused extends string> {
  changes: number;
  settling: number;
  refused: Record<Refused, number>;
}

/**
 * A replica's memory of the change events it has seen, so that an answer racing a change is not
 * trusted blindly. Three memories, each bounded by `maxEntries`:
 * - numbered changes per entry (`kind` and id): a lookup takes `current()` before it asks, and
 *   `changedSince` after tells whether its entry changed meanwhile. A number forgotten (pushed out,
 *   or past `numbersKeptMs`) raises a floor that every entry is assumed to have changed at: still
 *   safe, only more answers go uncached for a moment. `distrustAll` raises the floor to now.
 * - settling entries: changed in the last `settleMs`, so a cache about them is not trusted yet
 *   (another replica may still answer, or write back, what held before the change);
 * - remembered refusals (per refusal kind, each for its own time): what may never be accepted
 *   again, whatever a stale cache or a lagging replica says.
 */
export class ChangeLog<Kind extends string, Refused extends string = never> {
  private sequence = 0;
  private floor = 0;
  private readonly numbers: ExpiringMap<string, number>;
  private readonly settling: ExpiringMap<string, true>;
  private readonly refusals: Record<Refused, ExpiringMap<string, true>>;
  private readonly clock: () => number;

  constructor(options: ChangeLogOptions<Refused>) {
    const { maxEntries } = options;
    this.clock = options.now ?? (() => Date.now());
    this.numbers = new ExpiringMap({
      maxEntries,
      ttlMs: options.numbersKeptMs ?? Number.POSITIVE_INFINITY,
      now: this.clock,
      // A number set again is only superseded by a higher one; any other way out loses it.
      onRemove: (_entry, sequence, reason) => {
        if (reason !== 'replaced') this.floor = Math.max(this.floor, sequence);
      },
    });
    this.settling = new ExpiringMap({ maxEntries, ttlMs: options.settleMs, now: this.clock });
    const refusals = {} as Record<Refused, ExpiringMap<string, true>>;
    for (const kind of Object.keys(options.refusalMs) as Refused[]) {
      refusals[kind] = new ExpiringMap({ maxEntries, ttlMs: options.refusalMs[kind], now: this.clock });
    }
    this.refusals = refusals;
  }

  /** The current change number; a lookup takes it before asking, to compare with `changedSince` after. */
  current(): number {
    return this.sequence;
  }

  /** Numbers a change of the entry; with `settle`, the entry is also settling for `settleMs`. */
  changed(kind: Kind, id: string, { settle = false }: { settle?: boolean } = {}, now = this.clock()): void {
    const entry = `${kind}:${id}`;
    this.numbers.set(entry, ++this.sequence, now);
    if (settle) this.settling.set(entry, true, now);
  }

  /** Whether the entry changed after `sequence` (as far as this log can tell: when unsure, it did). */
  changedSince(kind: Kind, id: string, sequence: number, now = this.clock()): boolean {
    // Read first: finding the number expired raises the floor.
    const number = this.numbers.peek(`${kind}:${id}`, now) ?? 0;
    return Math.max(number, this.floor) > sequence;
  }

  /** Changed in the last `settleMs` by a change made with `settle`: no cache about it is trusted yet. */
  isSettling(kind: Kind, id: string, now = this.clock()): boolean {
    return this.settling.has(`${kind}:${id}`, now);
  }

  /** Events may have been missed: every lookup started before now is treated as overtaken. */
  distrustAll(): void {
    this.floor = ++this.sequence;
  }

  refuse(kind: Refused, id: string, now = this.clock()): void {
    this.refusals[kind].set(id, true, now);
  }

  refuses(kind: Refused, id: string, now = this.clock()): boolean {
    return this.refusals[kind].has(id, now);
  }

  get sizes(): ChangeLogSizes<Refused> {
    const refused = {} as Record<Refused, number>;
    for (const kind of Object.keys(this.refusals) as Refused[]) refused[kind] = this.refusals[kind].size;
    return { changes: this.numbers.size, settling: this.settling.size, refused };
  }
}
