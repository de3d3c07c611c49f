import { describe, expect, it } from '@jest/globals';
import { USAGE_BATCH_LIMITS } from '@app/contracts';
import { aggregateUses, messageCount, notCovered, parseUsageBatch, parseUse, toRuns, uniqueBySeq, type UseRecord } from './usage-batch.js';

const event = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ keyId: 'k1', accountId: 'a1', chatbotId: 'c1', at: '2026-03-01T10:15:42.123Z', ...overrides });

describe('parseUse', () => {
  it('accepts a contract event and counts one use by default', () => {
    const sut = parseUse(7, event());
    expect(sut).toEqual({ ok: true, use: { seq: 7, keyId: 'k1', atMs: Date.parse('2026-03-01T10:15:42.123Z'), count: 1, refused: 0 } });
  });

  it('takes the count of a coalesced event and a time with an offset', () => {
    const sut = parseUse(8, event({ count: 25, at: '2026-03-01T12:00:00+02:00', chatbotId: null }));
    expect(sut).toEqual({ ok: true, use: { seq: 8, keyId: 'k1', atMs: Date.parse('2026-03-01T10:00:00Z'), count: 25, refused: 0 } });
  });

  it('takes requests refused by the rate limit, with or without uses beside them', () => {
    expect(parseUse(9, event({ count: 0, refused: 4 }))).toMatchObject({ ok: true, use: { count: 0, refused: 4 } });
    expect(parseUse(10, event({ count: 3, refused: 2 }))).toMatchObject({ ok: true, use: { count: 3, refused: 2 } });
  });

  it.each([
    ['not JSON', '{"keyId":'],
    ['a missing keyId', event({ keyId: undefined })],
    ['an empty keyId', event({ keyId: '' })],
    ['a keyId longer than the usage tables hold', event({ keyId: 'k'.repeat(65) })],
    ['a keyId holding U+0000 (PostgreSQL text cannot)', event({ keyId: 'k\u0000' })],
    ['a time without offset', event({ at: '2026-03-01T10:15:42' })],
    ['a zero count without refusals', event({ count: 0 })],
    ['a zero refused', event({ count: 0, refused: 0 })],
    ['a negative refused', event({ refused: -1 })],
    ['a fractional count', event({ count: 1.5 })],
    ['a JSON array', '[]'],
  ])('rejects %s with a description instead of throwing', (_case, body) => {
    const sut = parseUse(1, body);
    expect(sut.ok).toBe(false);
    if (!sut.ok) expect(sut.problem.length).toBeGreaterThan(0);
  });
});

describe('parseUsageBatch', () => {
  const at = Date.parse('2026-03-01T10:15:42.123Z');
  const batch = (uses: unknown[]) => JSON.stringify({ uses });

  it('gives one record per entry, all with the message’s sequence', () => {
    const sut = parseUsageBatch(
      12,
      batch([
        ['k1', at, 1, 0],
        ['k2', at, 40, 0],
        ['k3', at, 0, 2],
      ]),
    );
    expect(sut).toEqual({
      ok: true,
      rejected: [],
      uses: [
        { seq: 12, keyId: 'k1', atMs: at, count: 1, refused: 0 },
        { seq: 12, keyId: 'k2', atMs: at, count: 40, refused: 0 },
        { seq: 12, keyId: 'k3', atMs: at, count: 0, refused: 2 },
      ],
    });
  });

  it('reads both forms of entry, with the chatbot second or without it, side by side', () => {
    const sut = parseUsageBatch(
      13,
      batch([
        ['k1', 'c1', at, 1, 0],
        ['k2', at + 1, 2, 0],
        ['k3', null, at + 2, 0, 3],
      ]),
    );
    expect(sut).toEqual({
      ok: true,
      rejected: [],
      uses: [
        { seq: 13, keyId: 'k1', atMs: at, count: 1, refused: 0 },
        { seq: 13, keyId: 'k2', atMs: at + 1, count: 2, refused: 0 },
        { seq: 13, keyId: 'k3', atMs: at + 2, count: 0, refused: 3 },
      ],
    });
  });

  it('counts the valid entries and describes each bad one beside them', () => {
    const sut = parseUsageBatch(
      3,
      batch([
        ['', at, 1, 0],
        ['k1', at, 7, 0],
        'use',
        ['k1', at, -2, 0],
        ['k1', at, 0, 0],
        ['k1', 1, 1, 0],
        ['k1', at + 0.5, 1, 0],
        ['k1', 'c1', at, 1],
        { keyId: 'k1', accountId: 'a1', chatbotId: null, at: '2026-03-01T10:15:42Z' },
        ['k1', '', at, 1, 0],
        ['k1', 'c1', at, 1, 0, 0],
        ['k\u0000', at, 1, 0],
      ]),
    );
    expect(sut.ok).toBe(true);
    if (!sut.ok) return;
    expect(sut.uses).toEqual([{ seq: 3, keyId: 'k1', atMs: at, count: 7, refused: 0 }]);
    expect(sut.rejected.map((rejected) => rejected.index)).toEqual([0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(sut.rejected.every((rejected) => rejected.problem.length > 0)).toBe(true);
    expect(sut.rejected[1].entry).toBe('use');
    expect(sut.rejected.at(-1)?.problem).toContain('U+0000');
  });

  it.each([
    ['not JSON', '{"uses":['],
    ['an array instead of the envelope', JSON.stringify([['k1', at, 1, 0]])],
    ['no uses', batch([])],
    ['uses that are not a list', JSON.stringify({ uses: ['k1', at, 1, 0].join() })],
    ['an unknown field beside uses', JSON.stringify({ uses: [['k1', at, 1, 0]], from: 'x' })],
    ['more entries than the bound', batch(Array.from({ length: USAGE_BATCH_LIMITS.maxEntries + 1 }, () => ['k1', at, 1, 0]))],
    ['more bytes than the bound', batch([['k'.repeat(USAGE_BATCH_LIMITS.maxBytes), at, 1, 0]])],
  ])('rejects a whole message with %s, with a description instead of throwing', (_case, body) => {
    const sut = parseUsageBatch(1, body);
    expect(sut.ok).toBe(false);
    if (!sut.ok) expect(sut.problem.length).toBeGreaterThan(0);
  });
});

describe('aggregateUses', () => {
  const use = (seq: number, keyId: string, at: string, count = 1, refused = 0): UseRecord => ({
    seq,
    keyId,
    atMs: Date.parse(at),
    count,
    refused,
  });

  it('sums per key and UTC minute, and keeps each minute’s latest use', () => {
    const sut = aggregateUses([
      use(1, 'kb', '2026-03-01T10:15:59.999Z'),
      use(2, 'ka', '2026-03-01T10:15:00.000Z', 3),
      use(3, 'kb', '2026-03-01T10:15:01.000Z'),
      use(4, 'kb', '2026-03-01T10:16:00.000Z', 2),
      use(5, 'ka', '2026-03-01T10:14:30.000Z'),
    ]);

    expect(sut.buckets).toEqual([
      { keyId: 'ka', minuteMs: Date.parse('2026-03-01T10:14:00Z'), count: 1, refused: 0, lastMs: Date.parse('2026-03-01T10:14:30.000Z') },
      { keyId: 'ka', minuteMs: Date.parse('2026-03-01T10:15:00Z'), count: 3, refused: 0, lastMs: Date.parse('2026-03-01T10:15:00.000Z') },
      { keyId: 'kb', minuteMs: Date.parse('2026-03-01T10:15:00Z'), count: 2, refused: 0, lastMs: Date.parse('2026-03-01T10:15:59.999Z') },
      { keyId: 'kb', minuteMs: Date.parse('2026-03-01T10:16:00Z'), count: 2, refused: 0, lastMs: Date.parse('2026-03-01T10:16:00.000Z') },
    ]);
    expect(sut.uses).toBe(8);
  });

  it('sums refusals beside uses; a refusal is no use, so it never moves the last use', () => {
    const sut = aggregateUses([
      use(1, 'k', '2026-03-01T10:15:10.000Z', 2),
      use(2, 'k', '2026-03-01T10:15:50.000Z', 0, 5),
      use(3, 'k', '2026-03-01T10:16:10.000Z', 0, 1),
    ]);
    expect(sut.buckets).toEqual([
      { keyId: 'k', minuteMs: Date.parse('2026-03-01T10:15:00Z'), count: 2, refused: 5, lastMs: Date.parse('2026-03-01T10:15:10.000Z') },
      { keyId: 'k', minuteMs: Date.parse('2026-03-01T10:16:00Z'), count: 0, refused: 1, lastMs: null },
    ]);
    expect(sut.uses).toBe(2);
  });

  it('is empty for no uses', () => {
    expect(aggregateUses([])).toEqual({ buckets: [], uses: 0 });
  });
});

describe('uniqueBySeq', () => {
  it('keeps one copy of a message redelivered into the same batch', () => {
    const first = { seq: 5, keyId: 'k', atMs: 1, count: 1, refused: 0 };
    const sut = uniqueBySeq([first, { seq: 3, keyId: 'k', atMs: 1, count: 1, refused: 0 }, { ...first }]);
    expect(sut.map((use) => use.seq)).toEqual([3, 5]);
  });

  it('keeps every record of a batch message once, and drops a second copy of it whole', () => {
    const record = (seq: number, keyId: string): UseRecord => ({ seq, keyId, atMs: 1, count: 1, refused: 0 });
    const copy = [record(5, 'a'), record(5, 'b'), record(5, 'c')];
    const sut = uniqueBySeq([...copy, record(4, 'x'), ...copy.map((use) => ({ ...use })), record(6, 'y')]);
    expect(sut.map((use) => `${use.seq}${use.keyId}`)).toEqual(['4x', '5a', '5b', '5c', '6y']);
    expect(messageCount(sut)).toBe(3);
  });
});

describe('toRuns and notCovered', () => {
  const use = (seq: number): UseRecord => ({ seq, keyId: 'k', atMs: 0, count: 1, refused: 0 });

  it('compresses sorted sequences into contiguous runs', () => {
    expect(toRuns([3, 4, 5, 9, 11, 12])).toEqual([
      { first: 3, last: 5 },
      { first: 9, last: 9 },
      { first: 11, last: 12 },
    ]);
    expect(toRuns([])).toEqual([]);
    // A batch message's records share its sequence: one run, not one per record.
    expect(toRuns([3, 3, 3, 4, 6, 6])).toEqual([
      { first: 3, last: 4 },
      { first: 6, last: 6 },
    ]);
  });

  it('keeps only the uses outside every applied range, whatever their order', () => {
    const sut = notCovered([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(use), [
      { first: 8, last: 9 },
      { first: 2, last: 4 },
    ]);
    expect(sut.map((fresh) => fresh.seq)).toEqual([1, 5, 6, 7, 10]);
    expect(notCovered([use(1)], []).map((fresh) => fresh.seq)).toEqual([1]);
    expect(notCovered([use(2), use(2), use(3), use(3)], [{ first: 2, last: 2 }]).map((fresh) => fresh.seq)).toEqual([3, 3]);
  });
});
