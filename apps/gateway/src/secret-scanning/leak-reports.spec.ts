import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import Fastify from 'fastify';
import { createLogger } from '@app/common';
import { generateApiKey, hashApiKey } from '@app/contracts';
import { httpRequest } from '@app/testing';
import { loadGatewayConfig } from '../config.js';
import type { KeyManagementClient } from '../key-management/key-management.client.js';
import { LeakReports } from './leak-reports.js';

const logger = createLogger('gateway', 'silent');
const servers: ReturnType<typeof Fastify>[] = [];

/** A bare Fastify with only this route, on a free port; the bus is a stand-in answering `request`. */
async function gatewayWith(env: NodeJS.ProcessEnv, request: (subject: string, payload: any) => Promise<unknown>) {
  const fastify = Fastify();
  servers.push(fastify);
  const sut = new LeakReports(loadGatewayConfig(env), { request } as unknown as KeyManagementClient, logger);
  await sut.mount(fastify);
  const url = await fastify.listen({ port: 0, host: '127.0.0.1' });
  return (body: string, headers: Record<string, string> = {}) =>
    httpRequest(url, {
      method: 'POST',
      path: '/v1/secret-scanning/reports',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('secret scanning configuration', () => {
  it('takes the keys from https, or plain http on a loopback address only, and from one source', () => {
    expect(
      loadGatewayConfig({ SECRET_SCANNING_KEYS_URL: 'https://api.github.com/meta/public_keys/secret_scanning' }).secretScanning.keysUrl,
    ).toBe('https://api.github.com/meta/public_keys/secret_scanning');
    expect(loadGatewayConfig({ SECRET_SCANNING_KEYS_URL: 'http://127.0.0.1:9000/keys' }).secretScanning.keysUrl).toBe(
      'http://127.0.0.1:9000/keys',
    );
    expect(() => loadGatewayConfig({ SECRET_SCANNING_KEYS_URL: 'http://keys.example.com/keys' })).toThrow(
      /SECRET_SCANNING_KEYS_URL: must be https/,
    );
    expect(() => loadGatewayConfig({ SECRET_SCANNING_KEYS_URL: 'https://a.test/k', SECRET_SCANNING_KEYS_FILE: '/k.json' })).toThrow(
      /not both/,
    );
  });
});

describe(LeakReports.name, () => {
  it('is not served without a key source: 404', async () => {
    const request = jest.fn(async () => ({ revoked: [] }));
    const post = await gatewayWith({}, request);
    const answer = await post('[]');
    expect(answer.status).toBe(404);
    expect(request).not.toHaveBeenCalled();
  });

  it('sends key-management hashes of plausible keys only, and labels every token in report order', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const file = join(mkdtempSync(join(tmpdir(), 'leak-reports-')), 'keys.json');
    const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(file, JSON.stringify({ public_keys: [{ key_identifier: 'k', key: pem, is_current: true }] }));
    const request = jest.fn(async (_subject: string, payload: any) => ({
      revoked: payload.tokens.map((_t: unknown, index: number) => index === 0),
    }));
    const post = await gatewayWith({ SECRET_SCANNING_KEYS_FILE: file }, request);

    const live = generateApiKey('chatbot');
    const broken = `${live.slice(0, -2)}zz`;
    const other = generateApiKey('user');
    const body = JSON.stringify([
      { token: live, type: 'cbk', url: 'https://x.test/a', source: 'content' },
      { token: broken, type: 'cbk', url: 'https://x.test/b', source: 'content' },
      { token: other, type: 'usk', url: 'https://x.test/c', source: 'commit' },
    ]);
    const answer = await post(body, {
      'github-public-key-identifier': 'k',
      'github-public-key-signature': sign('sha256', Buffer.from(body), pair.privateKey).toString('base64'),
    });

    expect(answer.status).toBe(200);
    expect(answer.json).toEqual([
      { token_hash: hashApiKey(live), token_type: 'cbk', label: 'true_positive' },
      { token_hash: hashApiKey(broken), token_type: 'cbk', label: 'false_positive' },
      { token_hash: hashApiKey(other), token_type: 'usk', label: 'false_positive' },
    ]);
    expect(request).toHaveBeenCalledTimes(1);
    const [subject, payload] = request.mock.calls[0];
    expect(subject).toBe('reportLeakedKeys');
    expect(payload.tokens).toEqual([
      { keyHash: hashApiKey(live), url: 'https://x.test/a', source: 'content' },
      { keyHash: hashApiKey(other), url: 'https://x.test/c', source: 'commit' },
    ]);
    for (const token of [live, broken, other]) expect(JSON.stringify(request.mock.calls)).not.toContain(token);
  });
});
