import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@app/common';
import { parseIpAddress } from '@app/contracts';
import { loadGatewayConfig } from './config.js';

const SECRET = 'an-hs256-secret-of-at-least-32-characters';

function problem(env: NodeJS.ProcessEnv): string {
  try {
    loadGatewayConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('gateway configuration', () => {
  it('serves /metrics on 8084 by default and trusts no proxy', () => {
    const sut = loadGatewayConfig({});
    expect(sut.port).toBe(8080);
    expect(sut.metricsPort).toBe(8084);
    expect(sut.trustedProxies.empty).toBe(true);
    expect(loadGatewayConfig({ GATEWAY_METRICS_PORT: '9464' }).metricsPort).toBe(9464);
  });

  it('reads TRUSTED_PROXIES as IPv4 and IPv6 addresses and CIDRs, comma-separated', () => {
    const sut = loadGatewayConfig({ TRUSTED_PROXIES: ' 10.0.0.0/8, 192.0.2.7 ,fd00::/8,::1' }).trustedProxies;
    for (const address of ['10.2.3.4', '192.0.2.7', 'fd12::1', '::1'])
      expect([address, sut.contains(parseIpAddress(address)!)]).toEqual([address, true]);
    for (const address of ['11.0.0.1', '192.0.2.8', 'fe80::1'])
      expect([address, sut.contains(parseIpAddress(address)!)]).toEqual([address, false]);
  });

  it('refuses a malformed TRUSTED_PROXIES, naming the variable and the entry', () => {
    for (const value of ['10.0.0.0/33', 'ingress.local', '10.0.0.0/8;192.0.2.1', '*']) {
      const message = problem({ TRUSTED_PROXIES: value });
      expect(message).toContain('TRUSTED_PROXIES');
      expect(message).toContain(value);
    }
  });

  it('needs SSO_ISSUER and SSO_AUDIENCE with an HS256 secret too, not only with a JWKS', () => {
    expect(problem({ SSO_HS256_SECRET: SECRET })).toMatch(/SSO_ISSUER[\s\S]*SSO_AUDIENCE/);
    expect(problem({ SSO_HS256_SECRET: SECRET, SSO_ISSUER: 'https://idp.example/' })).toContain('SSO_AUDIENCE');
    expect(problem({ SSO_HS256_SECRET: SECRET, SSO_AUDIENCE: 'chatbot-keys' })).toContain('SSO_ISSUER');
    expect(problem({ SSO_JWKS_FILE: '/etc/jwks.json', SSO_AUDIENCE: 'chatbot-keys' })).toContain('SSO_ISSUER');
    const sut = loadGatewayConfig({ SSO_HS256_SECRET: SECRET, SSO_ISSUER: 'https://idp.example/', SSO_AUDIENCE: 'chatbot-keys' }).sso;
    expect(sut).toMatchObject({ hs256Secret: SECRET, issuer: 'https://idp.example/', audience: 'chatbot-keys' });
  });

  it('fetches a JWKS over https: only, except from a loopback address', () => {
    const sso = { SSO_ISSUER: 'https://idp.example/', SSO_AUDIENCE: 'chatbot-keys' };
    for (const url of [
      'http://idp.example/jwks.json',
      'http://10.0.0.7/jwks',
      'http://localhost.idp.example/jwks',
      'http://127.0.0.1.nip.io/jwks',
      'ftp://idp.example/jwks',
    ]) {
      expect([url, problem({ ...sso, SSO_JWKS_URL: url })]).toEqual([url, expect.stringContaining('SSO_JWKS_URL')]);
    }
    for (const url of [
      'https://idp.example/jwks.json',
      'http://127.0.0.1:8899/jwks',
      'http://127.9.9.9/jwks',
      'http://localhost:8899/jwks',
      'http://[::1]:8899/jwks',
    ]) {
      expect(loadGatewayConfig({ ...sso, SSO_JWKS_URL: url }).sso.jwksUrl).toBe(url);
    }
  });
});
