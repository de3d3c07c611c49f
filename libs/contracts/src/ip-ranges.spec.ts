import { describe, expect, it } from '@jest/globals';
import { parseIpAddress } from './ip-address.js';
import { formatIpRange, IpRanges, parseIpRange } from './ip-ranges.js';

const contains = (ranges: IpRanges, address: string) => ranges.contains(parseIpAddress(address)!);

describe('IP ranges', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['203.0.113.7/32', '203.0.113.7'],
    ['203.0.113.7/24', '203.0.113.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8::1/128', '2001:db8::1'],
    ['2001:db8:abcd:12::/48', '2001:db8:abcd::/48'],
    ['fd00:1234:5678:9aff::1/57', 'fd00:1234:5678:9a80::/57'],
    ['::/0', '::/0'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.0/120', '192.0.2.0/24'],
    ['::ffff:10.1.2.3/104', '10.0.0.0/8'],
  ])('reads %s as %s', (text, canonical) => expect(formatIpRange(parseIpRange(text)!)).toBe(canonical));

  it.each([
    '',
    '*',
    'localhost',
    '1.2.3.4/33',
    '2001:db8::1/129',
    '1.2.3.4/',
    '1.2.3.4/08',
    '1.2.3.4/-1',
    '1.2.3.4/8/8',
    '1.2.3.4/0x8',
    '1.2.3.4/ 8',
    '/8',
    'fe80::1%eth0',
    'fe80::/10%eth0',
    '::ffff:192.0.2.0/95',
    '2001:db8::1::2',
  ])('refuses %j, and a list holding it names it', (text) => {
    expect(parseIpRange(text)).toBeNull();
    expect(() => IpRanges.parse(['10.0.0.0/8', text])).toThrow(`"${text}"`);
  });

  it('says whether the address or the prefix length is wrong', () => {
    expect(() => IpRanges.parse(['localhost'])).toThrow('"localhost" is not an IP address or CIDR range');
    expect(() => IpRanges.parse(['fe80::/10%eth0'])).toThrow('"fe80::/10%eth0" is not an IP address or CIDR range');
    expect(() => IpRanges.parse(['10.0.0.0/33'])).toThrow('"10.0.0.0/33" has a prefix length outside 0–32');
    expect(() => IpRanges.parse(['::ffff:10.0.0.0/95'])).toThrow('"::ffff:10.0.0.0/95" has a prefix length outside 0–32');
    expect(() => IpRanges.parse(['2001:db8::/129'])).toThrow('"2001:db8::/129" has a prefix length outside 0–128');
  });

  it('matches single addresses and CIDR ranges of both families', () => {
    const sut = IpRanges.parse(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::1', '172.16.0.0/12', '::ffff:198.51.100.7']);

    expect(contains(sut, '10.255.3.4')).toBe(true);
    expect(contains(sut, '11.0.0.1')).toBe(false);
    expect(contains(sut, '192.0.2.7')).toBe(true);
    expect(contains(sut, '192.0.2.8')).toBe(false);
    expect(contains(sut, '172.31.255.255')).toBe(true);
    expect(contains(sut, '172.32.0.0')).toBe(false);
    expect(contains(sut, '198.51.100.7')).toBe(true);
    expect(contains(sut, '2001:db8:ffff::1')).toBe(true);
    expect(contains(sut, '2001:DB9::1')).toBe(false);
    expect(contains(sut, '::1')).toBe(true);
    expect(contains(sut, '::2')).toBe(false);
    // What a dual-stack socket reports for an IPv4 client is that client.
    expect(contains(sut, '::ffff:10.1.2.3')).toBe(true);
  });

  it('handles prefix lengths that do not fall on a word or byte boundary, and /0', () => {
    const sut = IpRanges.parse(['192.0.2.64/26', 'fd00:1234:5678:9a80::/57']);
    expect(contains(sut, '192.0.2.64')).toBe(true);
    expect(contains(sut, '192.0.2.127')).toBe(true);
    expect(contains(sut, '192.0.2.128')).toBe(false);
    expect(contains(sut, 'fd00:1234:5678:9aff::1')).toBe(true);
    expect(contains(sut, 'fd00:1234:5678:9b00::1')).toBe(false);
    expect(contains(IpRanges.parse(['0.0.0.0/0']), '203.0.113.9')).toBe(true);
    expect(contains(IpRanges.parse(['::/0']), '2001:db8::1')).toBe(true);
  });

  it('never matches an IPv4 address against an IPv6 range of the same bits, or the reverse', () => {
    expect(contains(IpRanges.parse(['0.0.0.0/0']), '2001:db8::1')).toBe(false);
    expect(contains(IpRanges.parse(['::/0']), '10.0.0.1')).toBe(false);
    expect(contains(IpRanges.parse(['::/0']), '::ffff:10.0.0.1')).toBe(false);
  });

  it('matches nothing when empty', () => {
    expect(IpRanges.NONE.empty).toBe(true);
    expect(IpRanges.parse([]).empty).toBe(true);
    expect(IpRanges.parse(['::1']).empty).toBe(false);
    expect(contains(IpRanges.NONE, '127.0.0.1')).toBe(false);
  });
});
