import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@app/common';
import { loadGatewayConfig } from './config.js';

describe('loadGatewayConfig: body limits and HTTP server timeouts', () => {
  it('uses the documented defaults', () => {
    const sut = loadGatewayConfig({});

    expect(sut.bodyLimitBytes).toBe(10 * 1024 * 1024);
    expect(sut.managementBodyLimitBytes).toBe(1024 * 1024);
    expect(sut.http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 72_000,
      maxRequestsPerSocket: 10_000,
    });
  });

  it('reads what an operator sets', () => {
    const sut = loadGatewayConfig({
      MANAGEMENT_BODY_LIMIT_BYTES: '65536',
      HTTP_HEADERS_TIMEOUT_MS: '5000',
      HTTP_REQUEST_TIMEOUT_MS: '30000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000',
      HTTP_MAX_REQUESTS_PER_SOCKET: '100',
    });

    expect(sut.managementBodyLimitBytes).toBe(65_536);
    expect(sut.http).toEqual({ headersTimeoutMs: 5_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 65_000, maxRequestsPerSocket: 100 });
  });

  it('refuses a headers timeout longer than the request timeout, and non-positive values, naming the variable', () => {
    expect(() => loadGatewayConfig({ HTTP_HEADERS_TIMEOUT_MS: '90000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS/);
    expect(() => loadGatewayConfig({ HTTP_HEADERS_TIMEOUT_MS: '90000' })).toThrow(ConfigError);
    for (const name of [
      'MANAGEMENT_BODY_LIMIT_BYTES',
      'HTTP_REQUEST_TIMEOUT_MS',
      'HTTP_KEEP_ALIVE_TIMEOUT_MS',
      'HTTP_MAX_REQUESTS_PER_SOCKET',
    ]) {
      expect(() => loadGatewayConfig({ [name]: '0' })).toThrow(new RegExp(name));
    }
  });
});

describe('loadGatewayConfig: the Redis that shares rate-limit counts', () => {
  it('takes a private CA for a rediss:// URL, as the verifier does, and refuses one for a plaintext URL', () => {
    expect(loadGatewayConfig({ REDIS_URL: 'rediss://cache.internal:6380', REDIS_CA_FILE: '/etc/redis/ca.pem' }).redis).toMatchObject({
      url: 'rediss://cache.internal:6380',
      caFile: '/etc/redis/ca.pem',
    });
    expect(loadGatewayConfig({}).redis.caFile).toBeUndefined();
    expect(() => loadGatewayConfig({ REDIS_URL: 'redis://cache.internal:6379', REDIS_CA_FILE: '/etc/redis/ca.pem' })).toThrow(
      /REDIS_CA_FILE/,
    );
  });
});
