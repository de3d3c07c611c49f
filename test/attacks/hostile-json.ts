import fc from 'fast-check';

/**
 * Request bodies an attacker sends to a JSON API: valid shapes with wrong types and lengths,
 * prototype keys, duplicates, deep nesting, huge numbers, broken syntax and encodings.
 * `fields` are the names the route knows, so some bodies come close to valid.
 */
export function hostileJsonBody(fields: string[], plausible: fc.Arbitrary<unknown>[] = []): fc.Arbitrary<string | Buffer> {
  const field = fc.constantFrom(...fields, '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'extra');
  const fieldValue = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(
      '',
      ' ',
      '\u0000',
      'x'.repeat(65),
      'x'.repeat(300),
      'free',
      'owner',
      'member',
      'professional',
      'a@b.c',
      '00000000-0000-0000-0000-000000000000',
    ),
    fc.array(fc.string({ maxLength: 40 }), { maxLength: 5 }),
    ...plausible,
  );
  const object = fc.dictionary(field, fieldValue, { maxKeys: 5 }).map((value) => JSON.stringify(value));
  return fc.oneof(
    object,
    object,
    fc
      .tuple(field, fieldValue, fieldValue)
      .map(
        ([name, first, second]) => `{${JSON.stringify(name)}:${JSON.stringify(first)},${JSON.stringify(name)}:${JSON.stringify(second)}}`,
      ),
    fc.tuple(field, fieldValue).map(([name, value]) => `{"__proto__":{${JSON.stringify(name)}:${JSON.stringify(value)}}}`),
    fc.tuple(field, fieldValue).map(([name, value]) => `{"constructor":{"prototype":{${JSON.stringify(name)}:${JSON.stringify(value)}}}}`),
    fc.integer({ min: 1, max: 20_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
    fc
      .tuple(field, fc.integer({ min: 1, max: 20_000 }))
      .map(([name, depth]) => `{${JSON.stringify(name)}:${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`),
    fc
      .tuple(field, fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '1e-400', '-0'))
      .map(([name, number]) => `{${JSON.stringify(name)}:${number}}`),
    fc.constantFrom(
      '',
      'null',
      'true',
      '0',
      '"name"',
      '[]',
      '{',
      '{"name":',
      '{"name":"a"} x',
      '\uFEFF{}',
      "{'name':'a'}",
      '{"name":"\\ud800"}',
      '{"name":"\\u0000"}',
    ),
    object.map((text) => Buffer.concat([Buffer.from(text.slice(0, -1)), Buffer.from([0xc0, 0xae, 0xff]), Buffer.from('}')])),
    object.map((text) => Buffer.from(text, 'utf16le')),
    fc.string({ maxLength: 100 }),
  );
}

export const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/merge-patch+json',
);

/** Path ids an attacker tries: traversal, encodings, other tenants' ids, very long, unicode. */
export function hostileId(real: () => string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      '..',
      '.',
      '%2e%2e',
      '%2f',
      '%5c',
      '%252e%252e',
      '%00',
      'x'.repeat(65),
      'x'.repeat(2000),
      '%e2%80%ae',
      '%c0%ae',
      'null',
      'undefined',
      '0',
      '-1',
      "1'OR'1'='1",
      '$where',
      '%7B%7D',
      '*',
    ),
    fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'),
    fc.string({ maxLength: 70 }).map((text) => encodeURIComponent(text)),
    fc.nat().map((index) => {
      const ids = real();
      return ids[index % ids.length];
    }),
    fc.nat().map((index) => {
      const ids = real();
      return `${ids[index % ids.length]}%00`;
    }),
    fc.nat().map((index) => {
      const ids = real();
      return ids[index % ids.length].toUpperCase();
    }),
  );
}
