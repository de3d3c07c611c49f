import { describe, expect, it } from '@jest/globals';
import Fastify from 'fastify';
import { IpRanges } from '@app/contracts';
import { clientAddress, forwardedHeaders, installClientAddress, resolveClientAddress } from './client-address.js';

const PROXIES = IpRanges.parse(['10.0.0.0/8', '2001:db8:ffff::/48']);

describe('resolveClientAddress', () => {
  it('is the TCP peer when no proxy is trusted, whatever X-Forwarded-For claims', () => {
    expect(resolveClientAddress('203.0.113.9', '198.51.100.1', IpRanges.NONE)).toBe('203.0.113.9');
    expect(resolveClientAddress('10.0.0.5', '198.51.100.1', IpRanges.NONE)).toBe('10.0.0.5');
  });

  it('is the TCP peer when the peer is not a trusted proxy', () => {
    expect(resolveClientAddress('203.0.113.9', '198.51.100.1, 10.0.0.5', PROXIES)).toBe('203.0.113.9');
  });

  it('behind trusted proxies, is the right-most X-Forwarded-For address that is not a trusted proxy', () => {
    expect(resolveClientAddress('10.0.0.5', '198.51.100.1', PROXIES)).toBe('198.51.100.1');
    // The client wrote the left part itself: everything left of the first untrusted address is ignored.
    expect(resolveClientAddress('10.0.0.5', '1.1.1.1, 198.51.100.1, 10.9.9.9', PROXIES)).toBe('198.51.100.1');
    expect(resolveClientAddress('10.0.0.5', ['1.1.1.1, 198.51.100.1', '10.9.9.9'], PROXIES)).toBe('198.51.100.1');
    expect(resolveClientAddress('2001:db8:ffff::1', '2001:DB8:1::0:7', PROXIES)).toBe('2001:db8:1::7');
    expect(resolveClientAddress('10.0.0.5', '[2001:db8:1::7]:4711, 198.51.100.2:8080', PROXIES)).toBe('198.51.100.2');
    expect(resolveClientAddress('10.0.0.5', '::ffff:198.51.100.3', PROXIES)).toBe('198.51.100.3');
  });

  it('is the nearest trusted hop when the chain says no more: no header, only proxies, or an entry no proxy wrote', () => {
    expect(resolveClientAddress('10.0.0.5', undefined, PROXIES)).toBe('10.0.0.5');
    expect(resolveClientAddress('10.0.0.5', '', PROXIES)).toBe('10.0.0.5');
    expect(resolveClientAddress('10.0.0.5', '10.0.0.1, 10.0.0.2', PROXIES)).toBe('10.0.0.1');
    expect(resolveClientAddress('10.0.0.5', 'spoofed-client-id-42, 10.0.0.2', PROXIES)).toBe('10.0.0.2');
    expect(resolveClientAddress('10.0.0.5', '198.51.100.1,, 10.0.0.2', PROXIES)).toBe('10.0.0.2');
    expect(resolveClientAddress('10.0.0.5', 'unknown', PROXIES)).toBe('10.0.0.5');
  });

  it('reads a long chain from the right only, in bounded time', () => {
    const chain = `${'10.1.1.1, '.repeat(1000)}198.51.100.1`;
    expect(resolveClientAddress('10.0.0.5', `${'198.51.100.66, '.repeat(2000)}198.51.100.1`, PROXIES)).toBe('198.51.100.1');
    // More trusted hops than any real deployment: the last one read stands in.
    expect(resolveClientAddress('10.0.0.5', chain.split(', ').reverse().join(', '), PROXIES)).toBe('10.1.1.1');
  });
});

describe('clientAddress and forwardedHeaders on a Fastify request', () => {
  async function answer(trusted: IpRanges | null, headers: Record<string, string>) {
    const app = Fastify();
    if (trusted) installClientAddress(app, trusted);
    let calls = 0;
    app.get('/', (request) => {
      const first = clientAddress(request);
      calls++;
      return { client: first, again: clientAddress(request) === first, forwarded: forwardedHeaders(request) };
    });
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const response = await fetch(origin, { headers });
      expect(calls).toBe(1);
      return (await response.json()) as { client: string; again: boolean; forwarded: Record<string, string> };
    } finally {
      await app.close();
    }
  }

  it('trusts nothing by default: the peer is the client and the upstream hears only of the peer', async () => {
    const sut = await answer(null, { 'x-forwarded-for': '198.51.100.1', 'x-forwarded-proto': 'https' });
    expect(sut).toEqual({ client: '127.0.0.1', again: true, forwarded: { 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http' } });
  });

  it('behind a trusted proxy: the client from its chain, and the chain passed on ending with the peer', async () => {
    const sut = await answer(IpRanges.parse(['127.0.0.1']), { 'x-forwarded-for': '1.1.1.1, 198.51.100.1', 'x-forwarded-proto': 'HTTPS' });
    expect(sut).toEqual({
      client: '198.51.100.1',
      again: true,
      forwarded: { 'x-forwarded-for': '1.1.1.1, 198.51.100.1, 127.0.0.1', 'x-forwarded-proto': 'https' },
    });
  });

  it("ignores a trusted proxy's X-Forwarded-Proto that is not a scheme", async () => {
    const sut = await answer(IpRanges.parse(['127.0.0.1']), { 'x-forwarded-proto': 'gopher' });
    expect(sut.forwarded).toEqual({ 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http' });
  });
});
