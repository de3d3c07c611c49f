import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@app/common';
import { loadGatewayConfig } from './config.js';

describe('loadGatewayConfig: body limits and HTTP server timeouts', () => {
  it('uses the documented defaults', () => {
    const sut = loadGatewayConfig({});

    expect(sut.bodyLimitBytes).toBe(10 * 1024 * 1024);
    expect(sut.managementBodyLimitBytes).toBe(1024 * 1024);
    expect(sut.http).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 72_000, maxRequestsPerSocket: 10_000 });
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
    for (const name of ['MANAGEMENT_BODY_LIMIT_BYTES', 'HTTP_REQUEST_TIMEOUT_MS', 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 'HTTP_MAX_REQUESTS_PER_SOCKET']) {
      expect(() => loadGatewayConfig({ [name]: '0' })).toThrow(new RegExp(name));
    }
  });
});
