import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@app/common';
import { DEFAULT_ROUTES, RouteTable } from './route-table.js';
import { loadRoutes, parseRoutes } from './routes-file.js';

const dir = mkdtempSync(join(tmpdir(), 'routes-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problem(json: unknown): string {
  try {
    parseRoutes(json, 'ROUTES_FILE x');
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
}

const route = (over: object) => ({ method: '*', path: '/api/v1/**', chatbotId: null, ...over });

describe('ROUTES_FILE', () => {
  it('uses the default table without a file', () => {
    expect(loadRoutes(undefined)).toBe(DEFAULT_ROUTES);
  });

  it('loads the documented example, which routes by path, body and query', () => {
    const routes = new RouteTable(loadRoutes(join(process.cwd(), 'docs/routes.example.json')));
    expect(routes.match('GET', '/api/v1/conversations')?.chatbotIdSource).toEqual({ from: 'query', name: 'chatbot' });
    expect(routes.match('POST', '/api/v1/bots/b9/messages')?.params).toEqual({ botId: 'b9' });
  });

  it('names an unreadable file and invalid JSON', () => {
    expect(() => loadRoutes(join(dir, 'missing.json'))).toThrow(/ROUTES_FILE .*missing\.json: cannot be read/);
    expect(() => loadRoutes(file('bad.json', '{"routes": ['))).toThrow(/ROUTES_FILE .*bad\.json: not valid JSON/);
  });

  it.each([
    [{}, 'routes: '],
    [{ routes: [] }, 'routes: '],
    [{ routes: [route({ path: '/v1/keys' })] }, 'routes.0.path: must start with /api/v1/'],
    [{ routes: [route({ path: '/api/v1/a/../b' })] }, 'routes.0.path: segments'],
    [{ routes: [route({ path: '/api/v1//b' })] }, 'routes.0.path: segments'],
    [{ routes: [route({ path: '/api/v1/%2e/b' })] }, 'routes.0.path: segments'],
    [{ routes: [route({}), route({ path: '/api/v1/**/x' })] }, 'routes.1.path: `**` may only be the last segment'],
    [{ routes: [route({ path: '/api/v1/:a/:a' })] }, 'routes.0.path: a path parameter is named twice'],
    [{ routes: [route({ method: 'get' })] }, 'routes.0.method'],
    [{ routes: [route({ chatbotId: { from: 'header', name: 'x' } })] }, 'routes.0.chatbotId'],
    [{ routes: [route({ chatbotId: { from: 'path', name: 'id' } })] }, 'routes.0.chatbotId: the path has no parameter ":id"'],
    [{ routes: [route({ chatbotId: { from: 'body' } })] }, 'routes.0.chatbotId'],
    [{ routes: [route({ target: 'x' })] }, 'routes.0: Unrecognized key'],
  ])('refuses %j naming the problem', (json, expected) => {
    const message = problem(json);
    expect(message.startsWith('ROUTES_FILE x: ')).toBe(true);
    expect(message).toContain(expected);
  });
});
