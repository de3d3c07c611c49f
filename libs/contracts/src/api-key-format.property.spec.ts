import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { classifyApiKey, displayPrefix, generateApiKey, hashApiKey, KEY_LENGTH, KEY_PREFIXES, type KeyType } from './api-key-format.js';

const RUNS = { numRuns: 400 };
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const keyType = fc.constantFrom<KeyType>('chatbot', 'user');
/** Anything a client can put in a header value, and more: control characters, astral planes, lone surrogates. */
const anything = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
);
const printable = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)),
  minLength: 1,
  maxLength: 300,
});

/** A key shape the gateway would send on to the verifier; anything else is refused at the edge. */
function travels(key: string): boolean {
  return classifyApiKey(key) !== 'malformed';
}

describe('API key format (properties)', () => {
  it('classifies any string without throwing, and only as one of the four shapes', () => {
    fc.assert(
      fc.property(anything, (key) => {
        expect(['chatbot', 'user', 'legacy', 'malformed']).toContain(classifyApiKey(key));
      }),
      RUNS,
    );
  });

  it('never lets a key with whitespace, control or non-ASCII characters leave the gateway', () => {
    const outside = fc
      .oneof(fc.integer({ min: 0, max: 0x20 }), fc.integer({ min: 0x7f, max: 0xffff }))
      .map((code) => String.fromCharCode(code));
    fc.assert(
      fc.property(printable, outside, fc.nat(), (key, bad, at) => {
        const index = at % (key.length + 1);
        expect(travels(key.slice(0, index) + bad + key.slice(index))).toBe(false);
      }),
      RUNS,
    );
  });

  it('recognises every generated key as its own type', () => {
    fc.assert(
      fc.property(keyType, (type) => {
        const key = generateApiKey(type);
        expect(key).toHaveLength(KEY_LENGTH);
        expect(key.startsWith(KEY_PREFIXES[type])).toBe(true);
        expect(classifyApiKey(key)).toBe(type);
        expect(displayPrefix(key)).toBe(key.slice(0, 12));
      }),
      RUNS,
    );
  });

  it('refuses any one-character change to a generated key (the checksum catches it)', () => {
    fc.assert(
      fc.property(keyType, fc.integer({ min: 4, max: KEY_LENGTH - 1 }), fc.constantFrom(...BASE62), (type, at, replacement) => {
        const key = generateApiKey(type);
        fc.pre(key[at] !== replacement);
        expect(classifyApiKey(key.slice(0, at) + replacement + key.slice(at + 1))).toBe('malformed');
      }),
      RUNS,
    );
  });

  it('refuses a generated key that is truncated, extended or has two characters swapped', () => {
    fc.assert(
      fc.property(
        keyType,
        fc.integer({ min: 4, max: KEY_LENGTH - 2 }),
        fc.string({ unit: fc.constantFrom(...BASE62), minLength: 1, maxLength: 8 }),
        (type, at, extra) => {
          const key = generateApiKey(type);
          expect(classifyApiKey(key.slice(0, at))).toBe('malformed');
          expect(classifyApiKey(key + extra)).toBe('malformed');
          expect(classifyApiKey(key.slice(0, at) + extra + key.slice(at))).toBe('malformed');
          fc.pre(key[at] !== key[at + 1]);
          expect(classifyApiKey(key.slice(0, at) + key[at + 1] + key[at] + key.slice(at + 2))).toBe('malformed');
        },
      ),
      RUNS,
    );
  });

  it('treats every 20–256 printable ASCII string without a key prefix as a legacy key, and nothing shorter or longer', () => {
    fc.assert(
      fc.property(printable, (key) => {
        fc.pre(!key.startsWith('cbk_') && !key.startsWith('usk_'));
        expect(classifyApiKey(key)).toBe(key.length >= 20 && key.length <= 256 ? 'legacy' : 'malformed');
      }),
      RUNS,
    );
  });

  it('hashes to 64 lower-case hex characters that never contain the key', () => {
    fc.assert(
      fc.property(fc.oneof(keyType.map(generateApiKey), printable), (key) => {
        const hash = hashApiKey(key);
        expect(hash).toMatch(/^[0-9a-f]{64}$/);
        expect(hash).toBe(hashApiKey(key));
        if (key.length >= 8) expect(hash.includes(key)).toBe(false);
      }),
      RUNS,
    );
  });
});
