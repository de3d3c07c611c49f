import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ApiError } from '@app/common';
import { API_ROOT, normaliseApiPath } from './api-path.js';
import { DEFAULT_ROUTES, RouteTable } from './route-table.js';

const RUNS = { numRuns: 500 };
const routes = new RouteTable(DEFAULT_ROUTES);

/**
 * The pieces an attacker splices into a path: dots, separators in every encoding, overlong and
 * full-width UTF-8 look-alikes. Node's HTTP parser refuses a request target with anything but
 * printable ASCII (probed: NUL, tab, DEL and bytes over 0x7f are a 400 before any handler), so
 * non-ASCII only arrives percent-encoded, and that is the domain here.
 */
const tricky = fc.constantFrom(
  '.',
  '..',
  '/',
  '//',
  '\\',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%5c',
  '%5C',
  '%252e',
  '%252f',
  '%255c',
  '%25252e',
  '%00',
  '%2500',
  '%c0%ae',
  '%c0%af',
  '%e0%80%ae',
  '%ef%bc%8e',
  '%ef%bc%8f',
  '%ef%bc%bc',
  '%e2%80%a4',
  '%e2%88%95',
  '%',
  '%%',
  '%g0',
  '%2',
  ';',
  '#',
  '%3b',
  '%3f',
  '%23',
  '%20',
  '%09',
  '"',
  '<',
  '{',
  '`',
  'chatbots',
  'chat',
  'api',
  'v1',
  'bot-a',
  'bot-b',
  '%62ot-b',
  '%c3%a9',
  '%ff',
);
const segmentText = fc.string({ unit: fc.oneof(tricky, fc.constantFrom('a', 'b', '-', '_', '~', '0')), maxLength: 8 });
const printableAscii = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 60 });
const rawPath = fc.oneof(
  fc.array(segmentText, { maxLength: 8 }).map((segments) => `/api/v1/${segments.join('/')}`),
  fc.array(segmentText, { maxLength: 8 }).map((segments) => `/api/v1/chatbots/bot-a/${segments.join('/')}`),
  fc.array(segmentText, { maxLength: 10 }).map((segments) => `/${segments.join('/')}`),
  printableAscii.map((text) => `/api/v1/${text}`),
);

type Outcome = { accepted: true; path: string; query: string } | { accepted: false; status: number; code: string };

function outcomeOf(url: string): Outcome {
  try {
    return { accepted: true, ...normaliseApiPath(url) };
  } catch (error) {
    // Anything but an ApiError would be a 500: the property fails on it.
    if (!(error instanceof ApiError)) throw error;
    return { accepted: false, status: error.status, code: error.code };
  }
}

/** How an upstream reads a path: split on `/`, each segment percent-decoded. */
function upstreamSegments(path: string): string[] {
  return path
    .split('/')
    .slice(1)
    .map((segment) => decodeURIComponent(segment));
}

describe('normaliseApiPath (properties)', () => {
  it('answers every raw path with a normalised path under /api/v1/ or a 400/404, never anything else', () => {
    fc.assert(
      fc.property(rawPath, (url) => {
        const outcome = outcomeOf(url);
        if (outcome.accepted) expect(outcome.path.toLowerCase().startsWith(API_ROOT)).toBe(true);
        else
          expect([
            [400, 'invalid_request'],
            [404, 'not_found'],
          ]).toContainEqual([outcome.status, outcome.code]);
      }),
      RUNS,
    );
  });

  it('forwards only paths whose every segment, as the upstream decodes it, is plain: no dot segment, separator or NUL', () => {
    fc.assert(
      fc.property(rawPath, (url) => {
        const outcome = outcomeOf(url);
        if (!outcome.accepted) return;
        const segments = upstreamSegments(outcome.path);
        for (const segment of segments) {
          expect(segment).not.toMatch(/[/\\]/);
          expect(segment).not.toContain('\u0000');
          expect(['.', '..']).not.toContain(segment);
        }
        // Empty segments only at the end: `//` never survives.
        expect(segments.slice(0, -1)).not.toContain('');
        expect(outcome.path).not.toMatch(/[\\#?]/);
      }),
      RUNS,
    );
  });

  it('is idempotent and agrees with a URL parser: what scope is judged on is what the upstream resolves', () => {
    fc.assert(
      fc.property(rawPath, (url) => {
        const outcome = outcomeOf(url);
        if (!outcome.accepted) return;
        expect(normaliseApiPath(outcome.path).path).toBe(outcome.path);
        // A WHATWG parser may percent-encode a character or two (`"` → `%22`) but must read the same segments.
        expect(upstreamSegments(new URL(outcome.path, 'http://upstream.test').pathname)).toEqual(upstreamSegments(outcome.path));
      }),
      RUNS,
    );
  });

  it('refuses with 400 any path holding an encoded dot, slash or backslash, at any depth of encoding', () => {
    const encoded = fc
      .tuple(fc.constantFrom('2e', '2E', '2f', '2F', '5c', '5C'), fc.nat({ max: 4 }))
      .map(([hex, depth]) => `%${'25'.repeat(depth)}${hex}`);
    fc.assert(
      fc.property(fc.array(segmentText, { maxLength: 4 }), encoded, fc.array(segmentText, { maxLength: 4 }), (before, escape, after) => {
        const url = `/api/v1/chatbots/bot-a/${before.join('/')}${escape}${after.join('/')}`;
        expect(outcomeOf(url)).toEqual({ accepted: false, status: 400, code: 'invalid_request' });
      }),
      RUNS,
    );
  });

  it('keeps a request under its chatbot unless its plain segments visibly climb out, and routes on that same path', () => {
    fc.assert(
      fc.property(fc.array(segmentText, { maxLength: 6 }), fc.string({ maxLength: 12 }), (rest, query) => {
        const url = `/api/v1/chatbots/bot-a/${rest.join('/')}?${query}`;
        const outcome = outcomeOf(url);
        if (!outcome.accepted) return;
        expect(outcome.query).toBe(`?${query}`);
        const match = routes.match('GET', outcome.path);
        const climbs = rest.some((segment) => segment === '..');
        if (!climbs) {
          expect(outcome.path.startsWith('/api/v1/chatbots/bot-a/')).toBe(true);
          expect(match?.params.chatbotId).toBe('bot-a');
        }
        // Whatever the route says the target is, the upstream reads the same chatbot from the path.
        const segments = upstreamSegments(outcome.path);
        if (match?.chatbotIdSource?.from === 'path') expect(decodeURIComponent(match.params.chatbotId)).toBe(segments[3]);
        else expect(segments[2] === 'chatbots' && segments.length > 3 && segments[3] !== '').toBe(false);
      }),
      RUNS,
    );
  });
});
