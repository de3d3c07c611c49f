import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { BaseEnvSchema, baseConfig, ConfigError, loadConfig } from './index.js';

const load = (env: NodeJS.ProcessEnv) => baseConfig(loadConfig(BaseEnvSchema, env));
const dir = mkdtempSync(join(tmpdir(), 'nats-credentials-'));
const file = (name: string) => {
  const path = join(dir, name);
  writeFileSync(path, `${name} content`);
  return path;
};

describe('NATS credentials and TLS in the base configuration', () => {
  it('connects without credentials or TLS by default (a local development server)', () => {
    expect(load({}).nats).toEqual({ auth: { kind: 'none' }, tls: undefined });
  });

  it('reads a user and password, a token, or a creds file', () => {
    expect(load({ NATS_USER: 'gateway', NATS_PASSWORD: 's3cret' }).nats?.auth).toEqual({
      kind: 'password',
      user: 'gateway',
      password: 's3cret',
    });
    expect(load({ NATS_TOKEN: 't0ken' }).nats?.auth).toEqual({ kind: 'token', token: 't0ken' });
    const creds = load({ NATS_CREDS_FILE: file('service.creds') }).nats?.auth;
    expect(creds?.kind).toBe('creds');
    expect(Buffer.from((creds as { creds: Uint8Array }).creds).toString()).toBe('service.creds content');
  });

  it('asks for TLS with a tls:// URL or any TLS file, and passes the files on', () => {
    expect(load({ NATS_URL: 'tls://nats.internal:4222' }).nats?.tls).toEqual({});
    const [ca, cert, key] = [file('ca.pem'), file('cert.pem'), file('key.pem')];
    expect(load({ NATS_TLS_CA_FILE: ca, NATS_TLS_CERT_FILE: cert, NATS_TLS_KEY_FILE: key }).nats?.tls).toEqual({
      caFile: ca,
      certFile: cert,
      keyFile: key,
    });
  });

  it.each([
    [{ NATS_USER: 'gateway' }, 'NATS_PASSWORD'],
    [{ NATS_PASSWORD: 's3cret' }, 'NATS_USER'],
    [{ NATS_USER: 'gateway', NATS_PASSWORD: 's3cret', NATS_TOKEN: 't' }, 'NATS_TOKEN'],
    [{ NATS_TOKEN: 't', NATS_CREDS_FILE: '/etc/hostname' }, 'NATS_TOKEN'],
    [{ NATS_CREDS_FILE: '/no/such/file.creds' }, 'NATS_CREDS_FILE'],
    [{ NATS_TLS_CA_FILE: '/no/such/ca.pem' }, 'NATS_TLS_CA_FILE'],
    [{ NATS_TLS_CERT_FILE: '/etc/hostname' }, 'NATS_TLS_KEY_FILE'],
    [{ NATS_TLS_KEY_FILE: '/etc/hostname' }, 'NATS_TLS_CERT_FILE'],
  ])('stops at start-up with a message naming the variable: %j', (env, variable) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(variable);
  });
});
