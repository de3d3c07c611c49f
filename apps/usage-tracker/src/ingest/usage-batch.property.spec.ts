import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { KeyUsedBatchEntrySchema, KeyUsedBatchEntryWithChatbotSchema, USAGE_BATCH_ENTRY_BOUNDS as bounds } from '@app/contracts';
import { parseUsageBatch, toEntryUse } from './usage-batch.js';

// Values near every bound of every field, and values of the wrong kind.
const text = (max: number) =>
  fc.oneof(
    fc.string({ minLength: 0, maxLength: max + 2 }),
    fc.string({ minLength: max - 1, maxLength: max + 1 }),
    fc.constantFrom('\u0000', 'a\u0000b', '\uD800', '"', '\\'),
  );
const integerNear = (min: number, max: number) =>
  fc.oneof(fc.integer({ min: min - 2, max: min + 2 }), fc.integer({ min: max - 2, max: max + 2 }), fc.integer({ min, max }));
const oddNumber = fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 0.5, 2 ** 53 + 2));
const wrongKind = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  fc.string(),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.object(),
);

const field = {
  keyId: fc.oneof(text(bounds.keyIdMaxLength), wrongKind),
  chatbotId: fc.oneof(text(bounds.chatbotIdMaxLength), fc.constant(null), wrongKind),
  atMs: fc.oneof(integerNear(bounds.earliestAtMs, bounds.latestAtMs), oddNumber, wrongKind),
  count: fc.oneof(integerNear(0, bounds.maxCount), oddNumber, wrongKind),
};
const entry = fc.oneof(
  fc.tuple(field.keyId, field.atMs, field.count, field.count),
  fc.tuple(field.keyId, field.chatbotId, field.atMs, field.count, field.count),
  // Too short, too long, or not an array at all.
  fc.array(fc.oneof(field.keyId, field.atMs, field.count), { maxLength: 7 }),
  fc.anything(),
);
// What gateways write (and, with the chatbot, what earlier releases wrote): every one must take the fast path.
const atMs = fc.integer({ min: bounds.earliestAtMs, max: bounds.latestAtMs });
const count = fc.integer({ min: 0, max: bounds.maxCount });
const gatewayEntry = fc.oneof(
  fc.tuple(fc.uuid(), atMs, count, count),
  fc.tuple(fc.uuid(), fc.oneof(fc.uuid(), fc.constant(null)), atMs, count, count),
);

/** What the contract's schemas say of an entry: the five-field one for five fields, else the current one. */
const schemaAccepts = (candidate: unknown) =>
  (Array.isArray(candidate) && candidate.length === 5 ? KeyUsedBatchEntryWithChatbotSchema : KeyUsedBatchEntrySchema).safeParse(candidate)
    .success;

describe('toEntryUse', () => {
  it('accepts nothing the contract schemas refuse, no key id holding U+0000, and reads the fields where they are', () => {
    fc.assert(
      fc.property(entry, (candidate) => {
        const use = toEntryUse(7, candidate);
        if (use === undefined) return;
        expect(schemaAccepts(candidate)).toBe(true);
        const fields = candidate as unknown[];
        const [keyId, at, uses, refused] = fields.length === 5 ? [fields[0], ...fields.slice(2)] : fields;
        expect(use).toEqual({ seq: 7, keyId, atMs: at, count: uses, refused });
        expect(use.keyId).not.toContain('\u0000');
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with the schemas on entries shaped as gateways write them', () => {
    fc.assert(
      fc.property(gatewayEntry, (candidate) => {
        expect(toEntryUse(1, candidate) !== undefined).toBe(schemaAccepts(candidate));
      }),
    );
  });

  it('leaves the rest to the schema: a batch parses the same as with the schema and the key id check alone', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 20 }), (entries) => {
        const body = JSON.stringify({ uses: entries });
        const sut = parseUsageBatch(3, body);
        // The schema, and no key id holding U+0000 (PostgreSQL text cannot store it).
        const bySchema = (JSON.parse(body) as { uses: unknown[] }).uses.map(
          (e) => schemaAccepts(e) && !(e as string[])[0].includes('\u0000'),
        );
        expect(sut.ok).toBe(true);
        if (!sut.ok) return;
        expect(sut.rejected.map((r) => r.index)).toEqual(bySchema.flatMap((ok, index) => (ok ? [] : [index])));
        expect(sut.uses).toHaveLength(bySchema.filter(Boolean).length);
      }),
      { numRuns: 2_000 },
    );
  });
});
