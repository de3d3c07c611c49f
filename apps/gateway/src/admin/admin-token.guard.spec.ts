import { jest, describe, it, expect, beforeEach } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';

const actualCrypto = await import('node:crypto');
const timingSafeEqual = jest.fn(actualCrypto.timingSafeEqual);
jest.unstable_mockModule('node:crypto', () => ({ ...actualCrypto, timingSafeEqual }));

const { AdminTokenGuard } = await import('./admin-token.guard.js');
const { ApiError } = await import('@app/common');

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

function contextWith(headers: Record<string, string>): ExecutionContext {
  const request = { headers };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

function refusal(run: () => unknown): { code: string; status: number } {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, status: error.status };
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
});
