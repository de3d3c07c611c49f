import { describe, expect, it } from '@jest/globals';
import { clientResponseHeaders, upstreamRequestHeaders } from './forwarded-headers.js';

const key = { keyId: 'k1', type: 'user' as const, accountId: 'a1', chatbotId: null, userId: null, rateLimit: null };

describe('forwarded headers', () => {
  it('strips the credential, spoofed identity and hop-by-hop headers, and sets the verified identity', () => {
    const sut = upstreamRequestHeaders(
      {
        authorization: 'Bearer usk_x',
        'x-api-key': 'usk_x',
        'x-account-id': 'spoof',
        'x-chatbot-id': 'spoof',
        'x-api-key-id': 'spoof',
        'x-api-key-type': 'chatbot',
        'x-user-id': 'spoof',
        'x-request-id': 'client',
        host: 'gateway',
        connection: 'keep-alive, x-secret',
        'x-secret': 'hop',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'content-type': 'application/json',
        accept: 'text/event-stream',
      },
      key,
      'req-1',
    );
    expect(sut).toEqual({
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'x-request-id': 'req-1',
      'x-account-id': 'a1',
      'x-api-key-id': 'k1',
      'x-api-key-type': 'user',
    });
  });

  it('sets X-Chatbot-Id and X-User-Id when there are values', () => {
    const sut = upstreamRequestHeaders({}, { ...key, chatbotId: 'b1', userId: 'u1' }, 'r');
    expect(sut).toMatchObject({ 'x-chatbot-id': 'b1', 'x-user-id': 'u1' });
  });

  it('returns the upstream headers minus hop-by-hop ones, with the gateway request id', () => {
    expect(
      clientResponseHeaders(
        { 'content-type': 'text/event-stream', 'set-cookie': ['a=1', 'b=2'], connection: 'close', 'transfer-encoding': 'chunked', 'x-request-id': 'other' },
        'req-1',
      ),
    ).toEqual({ 'content-type': 'text/event-stream', 'set-cookie': ['a=1', 'b=2'], 'x-request-id': 'req-1' });
  });
});
