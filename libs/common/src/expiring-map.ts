/** Why an entry left: pushed out past the bound, past its end, deleted (or cleared), or set again. */
export type RemovalReason = 'evicted' | 'expired' | 'deleted' | 'replaced';

export interface ExpiringMapOptions<K, V> {
  /** The bound: past it, the least recently used entry goes first. */
  maxEntries: number;
  /** Default lifetime of an entry; `Infinity`: entries leave only past the bound or when deleted. */
  ttlMs: number;
  /** The clock used when a call names no `now` (default `Date.now`). */
  now?: () => number;
  /** Told of every entry leaving, whatever the reason: lets a caller keep secondary indexes exact. */
  onRemove?: (key: K, value: V, reason: RemovalReason) => void;
}

/** One entry, linked into the recency list (oldest to newest). */
interface Node<K, V> {
  readonly key: K;
  value: V;
  expiresAt: number;
  older: Node<K, V> | null;
  newer: Node<K, V> | null;
}

/**
 * The one bounded, expiring memory of the services: at most `maxEntries` entries, the least
 * recently used evicted first, each gone at its end (`now >= expiresAt`). A Map from key to a node
 * of a doubly linked recency list: a hit is one Map lookup and a few pointer writes. Every method
 * takes the time from its caller (`now`, defaulting to the clock option), so tests and callers that
 * already read the clock pass it rather than patch timers.
 */
export class ExpiringMap<K, V> {
  private readonly nodes = new Map<K, Node<K, V>>();
  private oldest: Node<K, V> | null = null;
  private newest: Node<K, V> | null = null;
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly clock: () => number;
  private readonly onRemove: ((key: K, value: V, reason: RemovalReason) => void) | undefined;

  constructor(options: ExpiringMapOptions<K, V>) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    if (!(options.ttlMs > 0)) throw new RangeError('ttlMs must be positive (Infinity for no expiry)');
    this.maxEntries = options.maxEntries;
    this.ttlMs = options.ttlMs;
    this.clock = options.now ?? Date.now;
    this.onRemove = options.onRemove;
  }

  get size(): number {
    return this.nodes.size;
  }

  /**
   * Stores `value` until `expiresAt` (default: `now` + the map's TTL) as the most recently used
   * entry. An entry whose end has already come is not stored (false), and any earlier value goes.
   */
  set(key: K, value: V, now = this.clock(), expiresAt = now + this.ttlMs): boolean {
    const node = this.nodes.get(key);
    if (expiresAt <= now) {
      if (node !== undefined) this.remove(node, 'deleted');
      return false;
    }
    if (node !== undefined) {
      const previous = node.value;
      node.value = value;
      node.expiresAt = expiresAt;
      this.makeNewest(node);
      if (previous !== value) this.onRemove?.(key, previous, 'replaced');
      return true;
    }
    // Entries that ended and were never read again leave as new ones come, oldest first (with one
    // TTL for all, the least recently used are the first to end).
    while (this.oldest !== null && this.oldest.expiresAt <= now) this.remove(this.oldest, 'expired');
    const added: Node<K, V> = { key, value, expiresAt, older: this.newest, newer: null };
    if (this.newest !== null) this.newest.newer = added;
    else this.oldest = added;
    this.newest = added;
    this.nodes.set(key, added);
    if (this.nodes.size > this.maxEntries) this.remove(this.oldest!, 'evicted');
    return true;
  }

  /** The live value, made the most recently used. */
  get(key: K, now = this.clock()): V | undefined {
    const node = this.live(key, now);
    if (node === undefined) return undefined;
    if (node !== this.newest) this.makeNewest(node);
    return node.value;
  }

  /** The live value, leaving recency as it is. */
  peek(key: K, now = this.clock()): V | undefined {
    return this.live(key, now)?.value;
  }

  has(key: K, now = this.clock()): boolean {
    return this.live(key, now) !== undefined;
  }

  delete(key: K): void {
    const node = this.nodes.get(key);
    if (node !== undefined) this.remove(node, 'deleted');
  }

  clear(): void {
    while (this.oldest !== null) this.remove(this.oldest, 'deleted');
  }

  /** Takes out every live entry, least recently used first, leaving the map empty. */
  *drain(now = this.clock()): Generator<[K, V]> {
    const live: [K, V][] = [];
    for (let node = this.oldest; node !== null; node = node.newer) if (node.expiresAt > now) live.push([node.key, node.value]);
    this.clear();
    yield* live;
  }

  /** The node while it lives; an expired one is removed on the way. */
  private live(key: K, now: number): Node<K, V> | undefined {
    const node = this.nodes.get(key);
    if (node === undefined || node.expiresAt > now) return node;
    this.remove(node, 'expired');
    return undefined;
  }

  private makeNewest(node: Node<K, V>): void {
    if (node === this.newest) return;
    this.unlink(node);
    node.older = this.newest;
    node.newer = null;
    this.newest!.newer = node;
    this.newest = node;
  }

  private unlink(node: Node<K, V>): void {
    if (node.older !== null) node.older.newer = node.newer;
    else this.oldest = node.newer;
    if (node.newer !== null) node.newer.older = node.older;
    else this.newest = node.older;
  }

  private remove(node: Node<K, V>, reason: RemovalReason): void {
    this.unlink(node);
    this.nodes.delete(node.key);
    this.onRemove?.(node.key, node.value, reason);
  }
}
