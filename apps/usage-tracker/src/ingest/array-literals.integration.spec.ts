import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import pg from 'pg';
import { testEnvironment } from '@app/testing';
import { numberArray, textArray } from './usage-ingest.repository.js';

// The literals the tracker builds, read back by PostgreSQL itself: any id a batch may carry arrives as sent.
describe('array literals the tracker writes', () => {
  const client = new pg.Client({ connectionString: testEnvironment().postgresUrl });
  beforeAll(() => client.connect());
  afterAll(() => client.end());

  const roundTrip = async (literal: string, type: string) =>
    ((await client.query(`SELECT $1::${type} AS "values"`, [literal])) as { rows: { values: unknown[] }[] }).rows[0].values;

  it('reads every string back unchanged: quotes, backslashes, braces, commas, blanks, NULL as text', async () => {
    const awkward = ['NULL', 'null', '', ' a ', '{x}', 'a,b', '"', '\\', '\\"', 'é漢🙂', '\t\n'];
    expect(await roundTrip(textArray(awkward), 'text[]')).toEqual(awkward);
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: 'grapheme-composite' }).filter((s) => !s.includes('\u0000')),
          { maxLength: 30 },
        ),
        async (values) => {
          expect(await roundTrip(textArray(values), 'text[]')).toEqual(values);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads numbers and nulls back, epoch milliseconds exactly', async () => {
    const values = [0, 1, 1_000_000, 4_102_444_800_000, null, 1_767_225_600_123];
    expect((await roundTrip(numberArray(values), 'float8[]')).map((v) => (v === null ? null : Number(v)))).toEqual(values);
    expect(await roundTrip(numberArray([]), 'bigint[]')).toEqual([]);
  });
});
