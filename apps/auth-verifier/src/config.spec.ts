import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@app/common';
import { loadAuthVerifierConfig } from './config.js';

describe('loadAuthVerifierConfig', () => {
  it('uses the documented defaults', () => {
    const sut = loadAuthVerifierConfig({});

    expect(sut).toMatchObject({
      port: 8082,
      natsUrl: 'nats://127.0.0.1:4222',
      subjectPrefix: undefined,
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'cbk:', commandTimeoutMs: 250 },
      cache: { ttlMs: 60_000, negativeTtlMs: 10_000 },
      lookupTimeoutMs: 750,
    });
  });

  it('reads the Redis key prefix and TTLs a test or an operator sets', () => {
    const sut = loadAuthVerifierConfig({
      REDIS_KEY_PREFIX: 'run42:',
      AUTH_VERIFIER_CACHE_TTL_MS: '30000',
      AUTH_VERIFIER_NEGATIVE_CACHE_TTL_MS: '2000',
      AUTH_VERIFIER_HTTP_PORT: '0',
    });

    expect(sut.redis.keyPrefix).toBe('run42:');
    expect(sut.cache).toEqual({ ttlMs: 30_000, negativeTtlMs: 2_000 });
    expect(sut.port).toBe(0);
  });

  it('takes a Redis Cluster URL, with TLS and a private CA', () => {
    const url = 'rediss+cluster://default:secret@clustercfg.cache.example.internal:6379';

    expect(loadAuthVerifierConfig({ REDIS_URL: url, REDIS_CA_FILE: '/etc/redis/ca.pem' }).redis).toMatchObject({
      url,
      caFile: '/etc/redis/ca.pem',
    });
    expect(() => loadAuthVerifierConfig({ REDIS_URL: 'redis+cluster://10.0.0.5:6379', REDIS_CA_FILE: '/etc/redis/ca.pem' })).toThrow(
      /REDIS_CA_FILE needs a rediss/,
    );
  });

  it.each([
    ['a database number', 'redis+cluster://10.0.0.5:6379/2', /no database number/],
    ['query parameters', 'redis+cluster://10.0.0.5:6379?db=2', /no query/],
    ['no host', 'redis+cluster://:secret@:6379', /needs a host|must be a URL/],
  ])('refuses a Redis Cluster URL with %s at start', (_case, url, message) => {
    expect(() => loadAuthVerifierConfig({ REDIS_URL: url })).toThrow(ConfigError);
    expect(() => loadAuthVerifierConfig({ REDIS_URL: url })).toThrow(message);
  });

  it.each([
    ['REDIS_URL', 'http://localhost:6379'],
    ['REDIS_KEY_PREFIX', 'has space'],
    ['LOOKUP_TIMEOUT_MS', '0'],
    ['AUTH_VERIFIER_CACHE_TTL_MS', 'soon'],
  ])('stops with a message naming %s when it is malformed', (variable, value) => {
    expect(() => loadAuthVerifierConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadAuthVerifierConfig({ [variable]: value })).toThrow(variable);
  });
});
