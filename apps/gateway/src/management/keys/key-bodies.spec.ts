import { describe, it, expect } from '@jest/globals';
import { ApiError } from '@app/common';
import { ZodPipe } from '../../http/validation/zod-body.pipe.js';
import { ListChatbotsQuerySchema } from '../chatbots/list-chatbots.query.js';
import { CreateKeyBodySchema, RollKeyBodySchema, UpdateKeyBodySchema } from '../../keys/key-bodies.js';

function rejection(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('the value was accepted');
}

describe('management bodies through ZodPipe', () => {
  const create = new ZodPipe(CreateKeyBodySchema);
  const rename = new ZodPipe(UpdateKeyBodySchema);

  it('accepts a missing body or a body without name on creation', () => {
    expect(create.transform(undefined)).toBeUndefined();
    expect(create.transform({})).toEqual({});
  });

  it('trims names and counts 1–64 characters after trimming', () => {
    expect(create.transform({ name: '  Zapier  ' })).toEqual({ name: 'Zapier' });
    expect(rename.transform({ name: ` ${'x'.repeat(64)} ` })).toEqual({ name: 'x'.repeat(64) });
    for (const name of ['', '    ', 'x'.repeat(65)]) {
      expect(rejection(() => rename.transform({ name }))).toMatchObject({ code: 'invalid_request', status: 400 });
      expect(rejection(() => create.transform({ name }))).toMatchObject({ code: 'invalid_request' });
    }
  });

  it('refuses a name holding the NUL character with a 400 naming it, rather than failing at the database', () => {
    for (const name of ['\u0000', 'Zap\u0000ier']) {
      const refused = rejection(() => create.transform({ name }));
      expect(refused).toMatchObject({ code: 'invalid_request', status: 400 });
      expect(refused.message).toContain('name');
      expect(rejection(() => rename.transform({ name }))).toMatchObject({ code: 'invalid_request', status: 400 });
    }
  });

  it('refuses a name with control, bidirectional, zero-width or unassigned characters with 400 invalid_request', () => {
    for (const name of ['Zap\u202eier', 'Zap\u200bier', 'Zap\u2066ier', 'Zap\u001bier', 'Zap\u0378ier']) {
      const refused = rejection(() => create.transform({ name }));
      expect(refused).toMatchObject({ code: 'invalid_request', status: 400 });
      expect(refused.message).toContain('name');
      expect(rejection(() => rename.transform({ name }))).toMatchObject({ code: 'invalid_request', status: 400 });
    }
  });

  it('refuses unknown fields, wrong types and non-object bodies, naming the field', () => {
    const unknown = rejection(() => create.transform({ name: 'ok', chatbotId: 'other' }));
    expect(unknown.code).toBe('invalid_request');
    expect(unknown.message).toContain('chatbotId');
    expect(rejection(() => rename.transform({ name: 42 })).message).toContain('name');
    expect(rejection(() => rename.transform({})).code).toBe('invalid_request');
    for (const body of [null, 'Zapier', ['Zapier'], 7]) {
      expect(rejection(() => create.transform(body)).code).toBe('invalid_request');
    }
  });

  it('takes a rate limit of 1–1,000,000 requests per 1–86,400 seconds on creation and change; null clears it', () => {
    const limit = { requests: 100, windowSeconds: 60 };
    expect(create.transform({ rateLimit: limit })).toEqual({ rateLimit: limit });
    expect(rename.transform({ rateLimit: limit })).toEqual({ rateLimit: limit });
    expect(rename.transform({ rateLimit: null })).toEqual({ rateLimit: null });
    expect(rename.transform({ rateLimit: { requests: 1_000_000, windowSeconds: 86_400 } })).toBeDefined();
    for (const rateLimit of [
      { requests: 0, windowSeconds: 60 },
      { requests: 1_000_001, windowSeconds: 60 },
      { requests: 10, windowSeconds: 0 },
      { requests: 10, windowSeconds: 86_401 },
      { requests: 1.5, windowSeconds: 60 },
      { requests: '10', windowSeconds: 60 },
      { requests: 10 },
      { requests: 10, windowSeconds: 60, burst: 5 },
      [10, 60],
      'unlimited',
    ]) {
      const refused = rejection(() => rename.transform({ rateLimit }));
      expect(refused).toMatchObject({ code: 'invalid_request', status: 400 });
      expect(refused.message).toContain('rateLimit');
      expect(rejection(() => create.transform({ rateLimit })).code).toBe('invalid_request');
    }
  });

  it('defaults ?limit to 50 and holds it within 1–200', () => {
    const query = new ZodPipe(ListChatbotsQuerySchema);
    expect(query.transform({})).toEqual({ limit: 50 });
    expect(query.transform({ limit: '200', cursor: 'abc' })).toEqual({ limit: 200, cursor: 'abc' });
    for (const limit of ['0', '201', '1.5', 'ten', '-3']) {
      expect(rejection(() => query.transform({ limit })).code).toBe('invalid_request');
    }
  });

  it('takes lifecycle fields: an ISO expiry (null clears it on PATCH), enabled, and an allow-list stored canonical', () => {
    const update = new ZodPipe(UpdateKeyBodySchema);
    expect(create.transform({ expiresAt: '2030-01-01T00:00:00Z', allowedIps: ['10.1.2.3/8'] })).toEqual({
      expiresAt: '2030-01-01T00:00:00Z',
      allowedIps: ['10.0.0.0/8'],
    });
    expect(update.transform({ expiresAt: null, allowedIps: null, enabled: false })).toEqual({
      expiresAt: null,
      allowedIps: null,
      enabled: false,
    });
    for (const body of [
      { expiresAt: 'tomorrow' },
      { expiresAt: 1893456000 },
      { enabled: 'no' },
      { allowedIps: [] },
      { allowedIps: ['1.2.3.4/40'] },
      { rateLimt: 1 },
    ]) {
      expect(rejection(() => update.transform(body)).code).toBe('invalid_request');
    }
    expect(rejection(() => create.transform({ expiresAt: null })).code).toBe('invalid_request');
  });

  it('takes a roll with an optional grace period of 0–604800 whole seconds', () => {
    const roll = new ZodPipe(RollKeyBodySchema);
    expect(roll.transform(undefined)).toBeUndefined();
    expect(roll.transform({ gracePeriodSeconds: 604_800 })).toEqual({ gracePeriodSeconds: 604_800 });
    for (const gracePeriodSeconds of [-1, 604_801, 1.5, '60', null]) {
      expect(rejection(() => roll.transform({ gracePeriodSeconds })).code).toBe('invalid_request');
    }
  });
});
