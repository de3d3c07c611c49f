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

  it("replaces the client's own X-Forwarded-For and -Proto with the gateway's, and drops Forwarded and X-Real-IP", () => {
    const sut = upstreamRequestHeaders(
      { 'x-forwarded-for': '10.0.0.1', 'x-forwarded-proto': 'https', forwarded: 'for=10.0.0.1', 'x-real-ip': '10.0.0.1', accept: '*/*' },
      key,
      'r',
      { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'http' },
    );
    expect(sut).toEqual({
      accept: '*/*',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'http',
      'x-request-id': 'r',
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
        {
          'content-type': 'text/event-stream',
          'set-cookie': ['a=1', 'b=2'],
          connection: 'close',
          'transfer-encoding': 'chunked',
          'x-request-id': 'other',
        },
        'req-1',
      ),
    ).toEqual({ 'content-type': 'text/event-stream', 'set-cookie': ['a=1', 'b=2'], 'x-request-id': 'req-1' });
  });

  it('drops identity headers under any "_" spelling and headers that reroute the request, keeping other "_" names', () => {
    const sut = upstreamRequestHeaders(
      {
        x_account_id: 'spoof',
        x_chatbot_id: 'spoof',
        'x-api_key-id': 'spoof',
        x_api_key_type: 'user',
        x_user_id: 'spoof',
        x_api_key: 'usk_x',
        'x-original-url': '/api/v1/chatbots/other',
        'x-rewrite-url': '/api/v1/chatbots/other',
        x_original_url: '/api/v1/chatbots/other',
        'x-http-method-override': 'DELETE',
        'x-http-method': 'DELETE',
        'x-method-override': 'DELETE',
        'x-trace_id': 'kept',
      },
      { ...key, chatbotId: 'b1' },
      'req-1',
    );
    expect(sut).toEqual({
      'x-trace_id': 'kept',
      'x-request-id': 'req-1',
      'x-account-id': 'a1',
      'x-api-key-id': 'k1',
      'x-api-key-type': 'user',
      'x-chatbot-id': 'b1',
    });
  });
});
