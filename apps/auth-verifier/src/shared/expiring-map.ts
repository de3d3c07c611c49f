/**
 * A map whose entries expire after `ttlMs` and which never holds more than
 * `maxEntries`: past that, the oldest entry goes first (`onEvict` is told).
 * Every in-memory structure of the verifier is one of these, so memory stays bounded
 * however many events arrive.
 */
export class ExpiringMap<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();

  constructor(
    private readonly options: {
      ttlMs: number;
      maxEntries: number;
      now?: () => number;
      onEvict?: (key: K, value: V) => void;
    },
  ) {}

  get size(): number {
    return this.entries.size;
  }

  set(key: K, value: V): void {
    // Re-inserting moves the entry to the end: insertion order is age order.
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.options.ttlMs });
    while (this.entries.size > this.options.maxEntries) {
      const [oldestKey, oldest] = this.entries.entries().next().value!;
      this.entries.delete(oldestKey);
      this.options.onEvict?.(oldestKey, oldest.value);
    }
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Takes out every live entry, leaving the map empty. */
  *drain(): Generator<[K, V]> {
    const now = this.now();
    const live = [...this.entries].filter(([, entry]) => entry.expiresAt > now);
    this.entries.clear();
    for (const [key, entry] of live) yield [key, entry.value];
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
