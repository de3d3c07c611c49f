import { describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import type { ExecutionContext } from '@nestjs/common';

const actualCrypto = await import('node:crypto');
const timingSafeEqual = jest.fn(actualCrypto.timingSafeEqual);
jest.unstable_mockModule('node:crypto', () => ({ ...actualCrypto, timingSafeEqual }));

const { AdminTokenGuard } = await import('./admin-token.guard.js');
const { ApiError } = await import('@app/common');

const ADMIN_TOKEN = 'f3b9c1d2e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3';
const tokenChars = fc.constantFrom(...'0123456789abcdefABCDEF-_.~+/=');

/** Each run from its own client address: wrong guesses from one address are braked after 50 (admin-token.guard.spec.ts). */
let runs = 0;
function contextWith(authorization: string): ExecutionContext {
  runs++;
  const request = { headers: { authorization }, socket: { remoteAddress: `10.0.${runs >> 8}.${runs & 255}` } };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

function passes(run: () => unknown): boolean | string {
  try {
    return run() === true;
  } catch (error) {
    if (error instanceof ApiError) return error.code;
    throw error;
  }
}

/** Near misses: prefixes, extensions, one character changed, case changed, and unrelated strings. */
const presented = fc.oneof(
  fc.nat({ max: ADMIN_TOKEN.length - 1 }).map((length) => ADMIN_TOKEN.slice(0, length + 1)),
  fc.string({ unit: tokenChars, minLength: 1, maxLength: 8 }).map((extra) => ADMIN_TOKEN + extra),
  fc
    .tuple(fc.nat({ max: ADMIN_TOKEN.length - 1 }), tokenChars)
    .map(([at, char]) => ADMIN_TOKEN.slice(0, at) + char + ADMIN_TOKEN.slice(at + 1)),
  fc.constant(ADMIN_TOKEN.toUpperCase()),
  fc.string({ unit: tokenChars, minLength: 1, maxLength: 300 }),
);

describe('AdminTokenGuard (properties)', () => {
  const sut = new AdminTokenGuard({ adminToken: ADMIN_TOKEN } as never);

  it('lets exactly the configured token through, comparing fixed-length digests in constant time whatever is presented', () => {
    fc.assert(
      fc.property(presented, (token) => {
        timingSafeEqual.mockClear();
        const result = passes(() => sut.canActivate(contextWith(`Bearer ${token}`)));
        expect(result).toBe(token === ADMIN_TOKEN ? true : 'invalid_api_key');
        // One comparison, of two 32-byte digests: its time depends on neither the token's length nor its content.
        expect(timingSafeEqual).toHaveBeenCalledTimes(1);
        const [left, right] = timingSafeEqual.mock.calls[0] as [Buffer, Buffer];
        expect([left.length, right.length]).toEqual([32, 32]);
        expect(left.equals(Buffer.from(token))).toBe(false);
      }),
      { numRuns: 400 },
    );
  });
});
