import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, createRedisClient, type RedisClient } from '@app/common';
import { loadAuthVerifierConfig } from '../../apps/auth-verifier/src/config.js';
import { makeCertificates, type TestCertificates } from './certificates.js';
import { eventually, freePort } from '@app/testing';

/** A managed Redis with TLS and a private server CA (ElastiCache, Memorystore): rediss:// plus REDIS_CA_FILE. */
const logger = createLogger('redis-tls-test', 'silent');
let dir: string;
let certificates: TestCertificates;
let server: ChildProcess;
let port: number;
const clients: RedisClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deploy-redis-tls-'));
  certificates = makeCertificates(dir);
  port = await freePort();
  server = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--tls-cert-file',
      certificates.certFile,
      '--tls-key-file',
      certificates.keyFile,
      '--tls-ca-cert-file',
      certificates.caFile,
      '--tls-auth-clients',
      'no',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  const probe = track(
    createRedisClient({ url: `rediss://localhost:${port}`, caFile: certificates.caFile, commandTimeoutMs: 1_000 }, logger),
  );
  await eventually(
    () => probe.ping().catch(() => 'down'),
    (answer) => answer === 'PONG',
    { timeoutMs: 15_000, intervalMs: 100, what: 'Redis with TLS' },
  );
}, 30_000);

afterAll(() => {
  for (const client of clients) client.disconnect();
  server?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function track(client: RedisClient): RedisClient {
  clients.push(client);
  return client;
}

describe('the auth-verifier to a Redis with TLS', () => {
  it('connects with rediss:// and REDIS_CA_FILE, the server certificate checked against that CA', async () => {
    const config = loadAuthVerifierConfig({ REDIS_URL: `rediss://localhost:${port}`, REDIS_CA_FILE: certificates.caFile });
    const redis = track(createRedisClient({ ...config.redis, commandTimeoutMs: 1_000 }, logger));
    expect(
      await eventually(
        () => redis.ping().catch(() => 'down'),
        (answer) => answer === 'PONG',
        { timeoutMs: 5_000, intervalMs: 100 },
      ),
    ).toBe('PONG');
  });

  it('does not trust the server without the CA', async () => {
    const redis = track(createRedisClient({ url: `rediss://localhost:${port}`, commandTimeoutMs: 500 }, logger));
    const errors: string[] = [];
    redis.on('error', (error: Error) => errors.push(error.message));
    await eventually(
      async () => errors.length,
      (count) => count > 0,
      { timeoutMs: 5_000, intervalMs: 50, what: 'a TLS error' },
    );
    expect(errors[0]).toMatch(/certificate/i);
    await expect(redis.ping()).rejects.toThrow();
  });

  it('refuses REDIS_CA_FILE with a plaintext redis:// URL at start', () => {
    expect(() => loadAuthVerifierConfig({ REDIS_URL: 'redis://localhost:6379', REDIS_CA_FILE: certificates.caFile })).toThrow(
      /REDIS_CA_FILE needs a rediss/,
    );
  });
});
