import {
  KeyUsedBatchEntrySchema,
  KeyUsedBatchEntryWithChatbotSchema,
  KeyUsedBatchEnvelopeSchema,
  KeyUsedEventSchema,
  USAGE_BATCH_ENTRY_BOUNDS,
  USAGE_BATCH_LIMITS,
} from '@app/contracts';
import { describeIssues } from '@app/common';

const MINUTE_MS = 60_000;

/**
 * One count as the tracker applies it: the stream sequence of the message that carried it and
 * what it counts. A `key.used` message is one record; a `key.used.batch` message is one record per
 * entry, all with the message's sequence (applied together or not at all).
 */
export interface UseRecord {
  seq: number;
  keyId: string;
  atMs: number;
  count: number;
  /** Requests the key's rate limit refused (not uses). */
  refused: number;
}

export type ParsedUse = { ok: true; use: UseRecord } | { ok: false; problem: string };

/** Validates one message body against the contract; a bad one is described, never thrown. */
export function parseUse(seq: number, body: string): ParsedUse {
  const json = parseJson(body);
  if (json === undefined) return { ok: false, problem: 'not JSON' };
  return toUse(seq, json);
}

function toUse(seq: number, json: unknown): ParsedUse {
  const parsed = KeyUsedEventSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problem: describeIssues(parsed.error.issues) };
  if (!isStorableKeyId(parsed.data.keyId)) return { ok: false, problem: NUL_IN_KEY_ID };
  const atMs = Date.parse(parsed.data.at);
  if (!Number.isFinite(atMs)) return { ok: false, problem: 'at: not a time' };
  return { ok: true, use: { seq, keyId: parsed.data.keyId, atMs, count: parsed.data.count ?? 1, refused: parsed.data.refused ?? 0 } };
}

export interface RejectedEntry {
  index: number;
  problem: string;
  /** The entry as sent, for the log. */
  entry: unknown;
}

export type ParsedBatch = { ok: true; uses: UseRecord[]; rejected: RejectedEntry[] } | { ok: false; problem: string };

/**
 * Validates a `key.used.batch` body: the envelope as a whole (past the contract's bounds, or not
 * the shape, nothing in it is trusted), then each entry on its own, so that one bad entry is
 * reported without costing the valid ones.
 */
export function parseUsageBatch(seq: number, body: string, bytes = Buffer.byteLength(body)): ParsedBatch {
  if (bytes > USAGE_BATCH_LIMITS.maxBytes) return { ok: false, problem: `larger than ${USAGE_BATCH_LIMITS.maxBytes} bytes` };
  const json = parseJson(body);
  if (json === undefined) return { ok: false, problem: 'not JSON' };
  const envelope = KeyUsedBatchEnvelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false, problem: describeIssues(envelope.error.issues) };
  const uses: UseRecord[] = [];
  const rejected: RejectedEntry[] = [];
  envelope.data.uses.forEach((entry, index) => {
    const use = toEntryUse(seq, entry);
    if (use !== undefined) return void uses.push(use);
    rejected.push({ index, problem: entryProblem(entry), entry });
  });
  return { ok: true, uses, rejected };
}

const bounds = USAGE_BATCH_ENTRY_BOUNDS;

/**
 * The record of an entry in either form (`[keyId, chatbotId, atMs, count, refused]`, as gateways
 * write it, or `[keyId, atMs, count, refused]`, see KeyUsedBatchEntry), or undefined when the entry is not one. Every request on a
 * key of its own is an entry of its own, so this runs once per request: a check by hand instead of
 * the schema's cost. It accepts only what KeyUsedBatchEntrySchema (or …WithChatbotSchema) accepts,
 * and no key id holding U+0000; a property spec holds it to that.
 */
export function toEntryUse(seq: number, entry: unknown): UseRecord | undefined {
  if (!Array.isArray(entry)) return undefined;
  let at = 1;
  if (entry.length === 5) {
    const chatbotId: unknown = entry[1];
    if (chatbotId !== null && (typeof chatbotId !== 'string' || chatbotId.length < 1 || chatbotId.length > bounds.chatbotIdMaxLength)) {
      return undefined;
    }
    at = 2;
  } else if (entry.length !== 4) return undefined;
  const keyId: unknown = entry[0];
  const atMs: unknown = entry[at];
  const count: unknown = entry[at + 1];
  const refused: unknown = entry[at + 2];
  if (
    typeof keyId === 'string' &&
    keyId.length >= 1 &&
    keyId.length <= bounds.keyIdMaxLength &&
    isStorableKeyId(keyId) &&
    isIntegerWithin(atMs, bounds.earliestAtMs, bounds.latestAtMs) &&
    isIntegerWithin(count, 0, bounds.maxCount) &&
    isIntegerWithin(refused, 0, bounds.maxCount) &&
    (count > 0 || refused > 0)
  ) {
    return { seq, keyId, atMs, count, refused };
  }
  return undefined;
}

/** Why an entry `toEntryUse` refused is not one, in the schema's words. */
function entryProblem(entry: unknown): string {
  const schema = Array.isArray(entry) && entry.length === 5 ? KeyUsedBatchEntryWithChatbotSchema : KeyUsedBatchEntrySchema;
  const parsed = schema.safeParse(entry);
  return parsed.success ? NUL_IN_KEY_ID : describeIssues(parsed.error.issues);
}

const NUL_IN_KEY_ID = 'keyId: contains U+0000, which the usage tables cannot store';

/** PostgreSQL text cannot hold U+0000: a key id with one would fail every batch it joined. */
function isStorableKeyId(keyId: string): boolean {
  return !keyId.includes('\u0000');
}

function isIntegerWithin(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

export interface MinuteBucket {
  keyId: string;
  minuteMs: number;
  count: number;
  refused: number;
  /** The latest use counted in this bucket; null when it holds refusals only. */
  lastMs: number | null;
}

export interface Aggregate {
  buckets: MinuteBucket[];
  uses: number;
}

/**
 * Sums one batch per key and UTC minute, keeping each bucket's latest use. Buckets come
 * out sorted by key, then minute, so that concurrent replicas lock rows in the same order.
 */
export function aggregateUses(uses: readonly UseRecord[]): Aggregate {
  const buckets = new Map<string, MinuteBucket>();
  let total = 0;
  for (const use of uses) {
    const minuteMs = Math.floor(use.atMs / MINUTE_MS) * MINUTE_MS;
    const bucketKey = `${use.keyId}\u0000${minuteMs}`;
    const bucket = buckets.get(bucketKey);
    const usedAt = use.count > 0 ? use.atMs : null;
    if (!bucket) buckets.set(bucketKey, { keyId: use.keyId, minuteMs, count: use.count, refused: use.refused, lastMs: usedAt });
    else {
      bucket.count += use.count;
      bucket.refused += use.refused;
      if (usedAt !== null && (bucket.lastMs === null || usedAt > bucket.lastMs)) bucket.lastMs = usedAt;
    }
    total += use.count;
  }
  return {
    buckets: [...buckets.values()].sort((a, b) => compare(a.keyId, b.keyId) || a.minuteMs - b.minuteMs),
    uses: total,
  };
}

/**
 * A message redelivered while its first copy still waits in the same batch is applied once: the
 * records of its first copy are kept (a batch message's records arrive together), later copies
 * dropped. Sorted by sequence, stably.
 */
export function uniqueBySeq(uses: readonly UseRecord[]): UseRecord[] {
  const done = new Set<number>();
  const kept: UseRecord[] = [];
  let open: number | undefined;
  let skipping: number | undefined;
  for (const use of uses) {
    if (use.seq !== open && use.seq !== skipping) {
      if (open !== undefined) done.add(open);
      open = done.has(use.seq) ? undefined : use.seq;
      skipping = open === undefined ? use.seq : undefined;
    }
    if (use.seq === open) kept.push(use);
  }
  return kept.sort((a, b) => a.seq - b.seq);
}

/** Distinct messages among records (sorted by sequence or not). */
export function messageCount(uses: readonly UseRecord[]): number {
  return new Set(uses.map((use) => use.seq)).size;
}

export interface SeqRange {
  first: number;
  last: number;
}

/** Sorted sequences as contiguous runs: a batch a replica pulled is usually one run. */
export function toRuns(sortedSeqs: readonly number[]): SeqRange[] {
  const runs: SeqRange[] = [];
  for (const seq of sortedSeqs) {
    const current = runs[runs.length - 1];
    // Equal sequences are records of one batch message.
    if (current && seq === current.last) continue;
    if (current && seq === current.last + 1) current.last = seq;
    else runs.push({ first: seq, last: seq });
  }
  return runs;
}

/** The uses (sorted by sequence) whose sequence no applied range covers. */
export function notCovered(uses: readonly UseRecord[], applied: readonly SeqRange[]): UseRecord[] {
  if (applied.length === 0) return [...uses];
  const ranges = [...applied].sort((a, b) => a.first - b.first);
  const fresh: UseRecord[] = [];
  let index = 0;
  for (const use of uses) {
    while (index < ranges.length && ranges[index].last < use.seq) index++;
    const range = ranges[index];
    if (!range || use.seq < range.first) fresh.push(use);
  }
  return fresh;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
