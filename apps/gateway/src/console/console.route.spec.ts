import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Fastify, { type FastifyInstance } from 'fastify';
import { Client } from 'undici';
import { createLogger } from '@app/common';
import { httpRequest } from '@app/testing';
import { mountConsole } from './console.route.js';

describe('the console route', () => {
  let parent: string;
  let directory: string;
  let sut: FastifyInstance;
  let client: Client;
  // Paths go out byte for byte (no client-side `..` folding), as an attacker would send them.
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const answer = await httpRequest(client, { path, headers });
    return { statusCode: answer.status, headers: answer.headers, body: answer.text, json: () => answer.json };
  };

  beforeAll(async () => {
    parent = mkdtempSync(join(tmpdir(), 'console-'));
    directory = join(parent, 'build');
    mkdirSync(join(directory, 'assets'), { recursive: true });
    writeFileSync(join(directory, 'index.html'), '<!doctype html><script type="module" src="/console/assets/index-abc123.js"></script>');
    writeFileSync(join(directory, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(directory, 'assets', 'index-abc123.js.map'), '{}');
    writeFileSync(join(directory, '..', 'secret.txt'), 'outside');
    sut = Fastify();
    mountConsole(
      sut,
      { directory, oidc: { issuer: 'https://login.example.test/tenant', clientId: 'console' } },
      createLogger('test', 'silent'),
    );
    const address = await sut.listen({ port: 0, host: '127.0.0.1' });
    client = new Client(address);
  });
  afterAll(async () => {
    await client.close();
    await sut.close();
    rmSync(parent, { recursive: true, force: true });
  });

  it('serves the page uncached and hashed assets for a year, both under a strict policy', async () => {
    const page = await get('/console/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https://login.example.test; " +
        "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    const asset = await get('/console/assets/index-abc123.js');
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const again = await get('/console/assets/index-abc123.js', { 'if-none-match': String(asset.headers.etag) });
    expect(again.statusCode).toBe(304);
  });

  it('answers client routes with the page, and unknown files, source maps and paths outside the build with 404', async () => {
    expect((await get('/console/chatbots/abc/settings/api-keys')).body).toContain('index-abc123.js');
    for (const url of [
      '/console/assets/other.js',
      '/console/assets/index-abc123.js.map',
      '/console/../secret.txt',
      '/console/..%2fsecret.txt',
      '/console/%2e%2e/secret.txt',
    ]) {
      const answer = await get(url);
      expect({ url, status: answer.statusCode, outside: answer.body.includes('outside') }).toEqual({ url, status: 404, outside: false });
    }
  });

  it('redirects /console to /console/ and tells the page how to sign in with SSO, uncached', async () => {
    const redirect = await get('/console');
    expect([redirect.statusCode, redirect.headers.location]).toEqual([308, '/console/']);
    const config = await get('/console/config.json');
    expect(config.json()).toEqual({ sso: { issuer: 'https://login.example.test/tenant', clientId: 'console' } });
    expect(config.headers['cache-control']).toBe('no-store');
  });
});
