import { describe, expect, it } from '@jest/globals';
import { ApiError } from '@app/common';
import { normaliseApiPath } from './api-path.js';

function refusal(url: string): string {
  try {
    return `accepted ${normaliseApiPath(url).path}`;
  } catch (error) {
    return (error as ApiError).code;
  }
}

describe('normaliseApiPath', () => {
  it('keeps a plain path and the query string exactly', () => {
    expect(normaliseApiPath('/api/v1/chatbots/b1/messages?x=%2F..&y=1')).toEqual({
      path: '/api/v1/chatbots/b1/messages',
      query: '?x=%2F..&y=1',
    });
  });

  it.each([
    ['/api/v1/chatbots/b1/./messages', '/api/v1/chatbots/b1/messages'],
    ['/api/v1/chatbots/b1/../b2/messages', '/api/v1/chatbots/b2/messages'],
    ['/api/v1/chatbots/b1/..', '/api/v1/chatbots/'],
    ['/api/v1//chatbots///b1', '/api/v1/chatbots/b1'],
    ['/api//v1/chat', '/api/v1/chat'],
    ['/api/v1/chatbots/b1/', '/api/v1/chatbots/b1/'],
    ['/api/v1/chat%62ots/b1', '/api/v1/chatbots/b1'],
    ['/api/v1/chatbots/a%20b', '/api/v1/chatbots/a%20b'],
    ['/api/v1/chatbots/a%3ab', '/api/v1/chatbots/a%3Ab'],
  ])('normalises %s to %s', (raw, path) => {
    expect(normaliseApiPath(raw).path).toBe(path);
  });

  it.each([
    '/api/v1/chatbots/b1/%2e%2e/b2',
    '/api/v1/chatbots/b1/%2E%2E/b2',
    '/api/v1/chatbots/b1/.%2e/b2',
    '/api/v1/chatbots/b1%2f..%2fb2',
    '/api/v1/chatbots/b1%2Fx',
    '/api/v1/chatbots/b1%5c..%5cb2',
    '/api/v1/chatbots/b1/%252e%252e/b2',
    '/api/v1/chatbots/b1%252Fb2',
    '/api/v1/chatbots/b1%25255cb2',
    '/api/v1/chatbots/b1\\..\\b2',
    '/api/v1/chatbots/b1%00',
    '/api/v1/chatbots/%c0%ae%c0%ae/b2',
    '/api/v1/chatbots/%zz',
    '/api/v1/../v1/chatbots/b1/../../../admin',
    '/api/v1/../../v1/api-keys',
    '/api/v1/../../../etc/passwd',
    '/api/v1/chatbots/../../v2/x',
    'http://evil/api/v1/chat',
    '/api/v1/chatbots/b2/..;/b1/conversations',
    '/api/v1/chatbots/b1;jsessionid=x/messages',
    '/api/v1;x=1/chatbots/b1',
    '/api/v1/chatbots/b1/;',
    '/api/v1/chatbots/b1%3b/x',
    '/api/v1/chatbots/b1%253B/x',
  ])('refuses %s with 400', (raw) => {
    expect(refusal(raw)).toBe('invalid_request');
  });

  it('accepts /api/v1/ in any letter case, keeping the path as sent', () => {
    expect(normaliseApiPath('/API/V1/CHATBOTS/B1').path).toBe('/API/V1/CHATBOTS/B1');
    expect(normaliseApiPath('/Api/v1//chatbots/b1').path).toBe('/Api/v1/chatbots/b1');
  });

  it('answers 404 for a plain path outside /api/v1/', () => {
    expect(refusal('/api/v2/chat')).toBe('not_found');
    expect(refusal('/api/v1')).toBe('not_found');
  });

  it.each([
    ['/api/v1/chatbots/b1/messages', '/api/v1/chatbots/b1/messages'],
    ['/api/v1/a.b/c./d..e/', '/api/v1/a.b/c./d..e/'],
    ['/api/v1/.well-known', '/api/v1/.well-known'],
    ['/api/v1/chatbots/b1/x?q=/../%2e', '/api/v1/chatbots/b1/x'],
  ])('takes the quick way only where the full normalisation would change nothing: %s', (url, path) => {
    expect(normaliseApiPath(url).path).toBe(path);
  });

  it.each(['/api/v2/x', '/api/v1', '/health/ready'])('answers 404 on the quick way too: %s', (url) => {
    expect(refusal(url)).toBe('not_found');
  });
});
