import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ApiError } from '@app/common';
import { stringField } from './json-body.js';

const RUNS = { numRuns: 400 };

/** Spellings of object keys: the field itself, escaped spellings of it, prototype names, others. */
const keySpelling = fc.constantFrom(
  '"chatbotId"',
  '"chatbot\\u0049d"',
  '"\\u0063hatbotId"',
  '"chatbotid"',
  '"CHATBOTID"',
  '"chatbot\\u0069d"',
  '"__proto__"',
  '"constructor"',
  '"prototype"',
  '"message"',
  '"chatbotId "',
);
const value = fc.oneof(
  fc.string({ maxLength: 20 }).map((text) => JSON.stringify(text)),
  fc.jsonValue({ maxDepth: 3 }).map((json) => JSON.stringify(json)),
  fc.constantFrom('1e400', '123456789012345678901234567890', '{"chatbotId":"nested"}', '[{"chatbotId":"in-array"}]'),
);
const entries = fc.array(fc.tuple(keySpelling, value), { maxLength: 6 });

function outcome(body: Buffer): { value: string | undefined } | { code: string } {
  try {
    return { value: stringField(body, 'chatbotId') };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { code: error.code };
  }
}

describe('stringField (properties)', () => {
  it('reads the one top-level chatbotId however it is escaped, and refuses one given twice or in another case', () => {
    fc.assert(
      fc.property(entries, (pairs) => {
        const text = `{${pairs.map(([key, json]) => `${key}:${json}`).join(',')}}`;
        const named = pairs.filter(([key]) => JSON.parse(key) === 'chatbotId');
        const otherCase = pairs.some(([key]) => JSON.parse(key) !== 'chatbotId' && JSON.parse(key).toLowerCase() === 'chatbotid');
        const result = outcome(Buffer.from(text));
        if (named.length > 1 || otherCase) return void expect(result).toEqual({ code: 'invalid_request' });
        const parsed = named.length === 1 ? JSON.parse(named[0][1]) : undefined;
        if (parsed === undefined || parsed === null) expect(result).toEqual({ value: undefined });
        else if (typeof parsed === 'string') expect(result).toEqual({ value: parsed });
        else expect(result).toEqual({ code: 'invalid_request' });
      }),
      RUNS,
    );
  });

  it('answers any byte sequence with a value or 400 invalid_request, never another error', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((array) => Buffer.from(array)),
      fc.string({ unit: 'binary', maxLength: 200 }).map((text) => Buffer.from(text)),
      fc.integer({ min: 1, max: 50_000 }).map((depth) => Buffer.from(`{"chatbotId":"a","x":${'['.repeat(depth)}${']'.repeat(depth)}}`)),
    );
    fc.assert(
      fc.property(bytes, (body) => {
        const result = outcome(body);
        if ('code' in result) expect(result.code).toBe('invalid_request');
      }),
      RUNS,
    );
  });
});
