import { jest, describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';

const actualCrypto = await import('node:crypto');
const timingSafeEqual = jest.fn(actualCrypto.timingSafeEqual);
jest.unstable_mockModule('node:crypto', () => ({ ...actualCrypto, timingSafeEqual }));

const { AdminTokenGuard } = await import('./admin-token.guard.js');
const { ApiError } = await import('@app/common');

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

function contextWith(headers: Record<string, string>, remoteAddress = '203.0.113.1'): ExecutionContext {
  const request = { headers, socket: { remoteAddress } };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

function refusal(run: () => unknown): { code: string; status: number; retryAfter?: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) {
      const retryAfter = error.headers?.['Retry-After'];
      return retryAfter === undefined ? { code: error.code, status: error.status } : { code: error.code, status: error.status, retryAfter };
    }
    throw error;
  }
  throw new Error('the guard let the request through');
}

describe('AdminTokenGuard', () => {
  beforeEach(() => {
    timingSafeEqual.mockClear();
  });

  it('answers 404 not_found on every request when no ADMIN_TOKEN is configured, even with a bearer token', () => {
    const sut = new AdminTokenGuard({ adminToken: undefined } as never);

    expect(refusal(() => sut.canActivate(contextWith({})))).toEqual({ code: 'not_found', status: 404 });
    expect(refusal(() => sut.canActivate(contextWith({ authorization: `Bearer ${ADMIN_TOKEN}` })))).toEqual({
      code: 'not_found',
      status: 404,
    });
  });

  it('answers 401 missing_api_key without a bearer token', () => {
    const sut = new AdminTokenGuard({ adminToken: ADMIN_TOKEN } as never);

    expect(refusal(() => sut.canActivate(contextWith({})))).toEqual({ code: 'missing_api_key', status: 401 });
    expect(refusal(() => sut.canActivate(contextWith({ authorization: ADMIN_TOKEN })))).toEqual({
      code: 'missing_api_key',
      status: 401,
    });
    expect(refusal(() => sut.canActivate(contextWith({ authorization: 'Bearer ' })))).toEqual({
      code: 'missing_api_key',
      status: 401,
    });
  });

  it('answers 401 invalid_api_key for a wrong token, including a prefix or an extension of the right one', () => {
    const sut = new AdminTokenGuard({ adminToken: ADMIN_TOKEN } as never);

    for (const wrong of ['nope', ADMIN_TOKEN.slice(0, -1), `${ADMIN_TOKEN}x`, ADMIN_TOKEN.toUpperCase()]) {
      expect(refusal(() => sut.canActivate(contextWith({ authorization: `Bearer ${wrong}` })))).toEqual({
        code: 'invalid_api_key',
        status: 401,
      });
    }
  });

  it('lets the configured token through', () => {
    const sut = new AdminTokenGuard({ adminToken: ADMIN_TOKEN } as never);

    expect(sut.canActivate(contextWith({ authorization: `Bearer ${ADMIN_TOKEN}` }))).toBe(true);
    expect(sut.canActivate(contextWith({ authorization: `bearer ${ADMIN_TOKEN}` }))).toBe(true);
  });

  it('compares in constant time over equal-length digests, whatever the presented length', () => {
    const sut = new AdminTokenGuard({ adminToken: ADMIN_TOKEN } as never);

    refusal(() => sut.canActivate(contextWith({ authorization: 'Bearer short' })));
    sut.canActivate(contextWith({ authorization: `Bearer ${ADMIN_TOKEN}` }));

    expect(timingSafeEqual).toHaveBeenCalledTimes(2);
    for (const [presented, expected] of timingSafeEqual.mock.calls as [Buffer, Buffer][]) {
      expect(presented).toHaveLength(32);
      expect(expected).toHaveLength(32);
      // Digests, never the tokens themselves.
      expect(Buffer.from(presented).toString()).not.toContain('short');
      expect(Buffer.from(expected).toString()).not.toContain(ADMIN_TOKEN);
    }
  });

  describe('wrong guesses', () => {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    beforeEach(() => {
      jest.useFakeTimers({ now: new Date('2026-12-01T12:00:00Z') });
    });
    afterEach(() => {
      jest.useRealTimers();
    });

    it('throttle a client address after 50 in a minute, the right token included, and no other address', () => {
      const sut = new AdminTokenGuard({ adminToken: ADMIN_TOKEN } as never);
      for (let i = 0; i < 50; i++) {
        expect(refusal(() => sut.canActivate(contextWith(bearer(`guess-${i}`), '198.51.100.7')))).toEqual({
          code: 'invalid_api_key',
          status: 401,
        });
        jest.advanceTimersByTime(100);
      }

      expect(refusal(() => sut.canActivate(contextWith(bearer('guess-50'), '198.51.100.7')))).toEqual({
        code: 'rate_limited',
        status: 429,
        retryAfter: '55',
      });
      // While braked, a guess that hits must look the same as one that misses.
      expect(refusal(() => sut.canActivate(contextWith(bearer(ADMIN_TOKEN), '198.51.100.7')))).toMatchObject({
        code: 'rate_limited',
        status: 429,
      });
      expect(sut.canActivate(contextWith(bearer(ADMIN_TOKEN), '198.51.100.8'))).toBe(true);
      expect(refusal(() => sut.canActivate(contextWith(bearer('guess'), '198.51.100.8')))).toEqual({
        code: 'invalid_api_key',
        status: 401,
      });
    });

    it('are forgotten as they leave the minute', () => {
      const sut = new AdminTokenGuard({ adminToken: ADMIN_TOKEN } as never);
      for (let i = 0; i < 50; i++) refusal(() => sut.canActivate(contextWith(bearer(`guess-${i}`))));
      expect(refusal(() => sut.canActivate(contextWith(bearer(ADMIN_TOKEN))))).toMatchObject({ code: 'rate_limited' });
      jest.advanceTimersByTime(60_000);
      expect(sut.canActivate(contextWith(bearer(ADMIN_TOKEN)))).toBe(true);
    });

    it('do not count a missing token, which guesses nothing', () => {
      const sut = new AdminTokenGuard({ adminToken: ADMIN_TOKEN } as never);
      for (let i = 0; i < 60; i++)
        expect(refusal(() => sut.canActivate(contextWith({})))).toEqual({ code: 'missing_api_key', status: 401 });
      expect(sut.canActivate(contextWith(bearer(ADMIN_TOKEN)))).toBe(true);
    });
  });
});
