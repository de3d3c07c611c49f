import { describe, expect, it } from '@jest/globals';
import { INVALID_REPLY, UNAVAILABLE_REPLY, parseVerifyReply } from './verify-reply.js';

const verified = { keyId: 'k1', type: 'chatbot', accountId: 'acc', chatbotId: 'bot', userId: null, rateLimit: null };

describe('parseVerifyReply', () => {
  it('keeps every field of a valid reply, with its end as a number and its allow-list parsed', () => {
    const raw = { valid: true, allowed: true, ...verified, expiresAt: '2030-01-01T00:00:00.000Z', allowedIps: ['10.0.0.0/8'] };
    const reply = parseVerifyReply(JSON.parse(JSON.stringify(raw)));
    expect(reply).toMatchObject({ ...raw, endsAtMs: Date.parse(raw.expiresAt) });
    expect(reply.valid && reply.allowList?.allows('10.1.2.3')).toBe(true);
    expect(reply.valid && reply.allowList?.allows('11.1.2.3')).toBe(false);
  });

  it('keeps the refusal code of a valid key refused here, and reads a missing rate limit as none', () => {
    const { rateLimit: _none, ...older } = verified;
    expect(parseVerifyReply({ valid: true, allowed: false, code: 'insufficient_scope', ...older })).toEqual({
      valid: true,
      allowed: false,
      code: 'insufficient_scope',
      ...verified,
    });
  });

  it('answers invalid keys and unreadable replies with the shared refusals', () => {
    expect(parseVerifyReply({ valid: false, code: 'invalid_api_key' })).toBe(INVALID_REPLY);
    expect(parseVerifyReply({ valid: false, code: 'auth_unavailable' })).toBe(UNAVAILABLE_REPLY);
    expect(parseVerifyReply({ valid: true, allowed: true, keyId: 'k1' })).toBe(UNAVAILABLE_REPLY);
    expect(parseVerifyReply({ valid: true, allowed: true, ...verified, allowedIps: ['not an address'] })).toBe(UNAVAILABLE_REPLY);
    expect(Object.isFrozen(INVALID_REPLY)).toBe(true);
  });
});
