import { describe, expect, it } from '@jest/globals';
import { DEFAULT_ROUTES, RouteTable } from './route-table.js';

describe('RouteTable', () => {
  const sut = new RouteTable(DEFAULT_ROUTES);
  const target = (method: string, path: string) => {
    const match = sut.match(method, path);
    return match && { source: match.chatbotIdSource, params: match.params };
  };

  it('sends everything under /api/v1/chatbots/{id} to that chatbot', () => {
    for (const path of ['/api/v1/chatbots/b1', '/api/v1/chatbots/b1/', '/api/v1/chatbots/b1/a/b/c']) {
      expect(target('DELETE', path)).toEqual({ source: { from: 'path', name: 'chatbotId' }, params: { chatbotId: 'b1' } });
    }
  });

  it('matches a chatbot route with an empty id (the caller answers 400)', () => {
    expect(target('GET', '/api/v1/chatbots/')?.params).toEqual({ chatbotId: '' });
  });

  it('reads POST /api/v1/chat (with or without a trailing slash) from the body; other methods are account routes', () => {
    expect(target('POST', '/api/v1/chat')?.source).toEqual({ from: 'body', name: 'chatbotId' });
    expect(target('POST', '/api/v1/chat/')?.source).toEqual({ from: 'body', name: 'chatbotId' });
    expect(target('GET', '/api/v1/chat')?.source).toBeNull();
    expect(target('POST', '/api/v1/chat/history')?.source).toBeNull();
  });

  it('treats every other path as an account route, /api/v1/chatbots itself included', () => {
    expect(target('GET', '/api/v1/chatbots')?.source).toBeNull();
    expect(target('PUT', '/api/v1/account/settings')?.source).toBeNull();
  });

  it('matches literals whatever their case (as Express and ASP.NET do), with or without a trailing slash', () => {
    for (const path of ['/API/V1/CHATBOTS/b1/x', '/api/v1/Chatbots/b1', '/Api/v1/chatbots/b1/']) {
      expect(target('GET', path)).toEqual({ source: { from: 'path', name: 'chatbotId' }, params: { chatbotId: 'b1' } });
    }
    for (const path of ['/api/v1/CHAT', '/API/V1/Chat/']) expect(target('POST', path)?.source).toEqual({ from: 'body', name: 'chatbotId' });
    const custom = new RouteTable([{ method: 'GET', path: '/api/v1/Bots/:id', chatbotId: { from: 'path', name: 'id' } }]);
    expect(custom.match('GET', '/api/v1/bOTS/X/')?.params).toEqual({ id: 'X' });
  });

  it('gives GET routes HEAD too', () => {
    const custom = new RouteTable([
      { method: 'GET', path: '/api/v1/bots/:id', chatbotId: { from: 'path', name: 'id' } },
      { method: ['PUT', 'PATCH'], path: '/api/v1/bots/*/name', chatbotId: { from: 'query', name: 'bot' } },
    ]);
    expect(custom.match('HEAD', '/api/v1/bots/x')?.params).toEqual({ id: 'x' });
    expect(custom.match('POST', '/api/v1/bots/x')).toBeNull();
    expect(custom.match('GET', '/api/v1/bots/x/y')).toBeNull();
    expect(custom.match('PATCH', '/api/v1/bots/x/name')?.chatbotIdSource).toEqual({ from: 'query', name: 'bot' });
    expect(custom.match('PATCH', '/api/v1/bots/x/y/name')).toBeNull();
  });
});
