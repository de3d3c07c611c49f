import { KeyUsedEventSchema } from '@app/contracts';
import { describeIssues } from '@app/common';

const MINUTE_MS = 60_000;

/** One `key.used` message as the tracker applies it: its stream sequence and what it counts. */
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
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const parsed = KeyUsedEventSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problem: describeIssues(parsed.error.issues) };
  const atMs = Date.parse(parsed.data.at);
  if (!Number.isFinite(atMs)) return { ok: false, problem: 'at: not a time' };
  return { ok: true, use: { seq, keyId: parsed.data.keyId, atMs, count: parsed.data.count ?? 1, refused: parsed.data.refused ?? 0 } };
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

/** A message redelivered while its first copy still waits in the same batch is applied once. */
export function uniqueBySeq(uses: readonly UseRecord[]): UseRecord[] {
  const seen = new Map<number, UseRecord>();
  for (const use of uses) if (!seen.has(use.seq)) seen.set(use.seq, use);
  return [...seen.values()].sort((a, b) => a.seq - b.seq);
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
