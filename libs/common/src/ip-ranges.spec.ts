import { describe, expect, it } from '@jest/globals';
import { brakeBucket, canonicalIpAddress, IpRanges, parseIpAddress } from './ip-ranges.js';

const contains = (ranges: IpRanges, address: string) => ranges.contains(parseIpAddress(address)!);

describe('IP addresses', () => {
  it('reads IPv4 and IPv6 in every common spelling to one canonical form', () => {
    expect(canonicalIpAddress('192.0.2.7')).toBe('192.0.2.7');
    expect(canonicalIpAddress('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(canonicalIpAddress('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(canonicalIpAddress('2001:DB8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIpAddress('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(canonicalIpAddress('fe80::1%eth0')).toBe('fe80::1');
    expect(canonicalIpAddress('::')).toBe('::');
    expect(canonicalIpAddress('64:ff9b::192.0.2.33')).toBe('64:ff9b::c000:221');
  });

  it('refuses what is not an address', () => {
    for (const text of [
      '',
      ' ',
      '1.2.3',
      '1.2.3.4.5',
      '256.0.0.1',
      '01.2.3.4',
      '1.2.3.4 ',
      'a.b.c.d',
      '1::2::3',
      ':1',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      'g::1',
      'unknown',
      '1.2.3.4/8',
    ]) {
      expect([text, parseIpAddress(text)]).toEqual([text, null]);
    }
  });
});

describe('brakeBucket', () => {
  it('counts an IPv4 client by its address and an IPv6 client by its /64, in any spelling', () => {
    expect(brakeBucket('192.0.2.7')).toBe('192.0.2.7');
    expect(brakeBucket('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(brakeBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(brakeBucket('2001:DB8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(brakeBucket('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(brakeBucket('not an address')).toBe('not an address');
  });
});

describe('IpRanges', () => {
  it('matches single addresses and CIDR ranges of both families', () => {
    const sut = IpRanges.parse(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::1', '172.16.0.0/12']);

    expect(contains(sut, '10.255.3.4')).toBe(true);
    expect(contains(sut, '11.0.0.1')).toBe(false);
    expect(contains(sut, '192.0.2.7')).toBe(true);
    expect(contains(sut, '192.0.2.8')).toBe(false);
    expect(contains(sut, '172.31.255.255')).toBe(true);
    expect(contains(sut, '172.32.0.0')).toBe(false);
    expect(contains(sut, '2001:db8:ffff::1')).toBe(true);
    expect(contains(sut, '2001:db9::1')).toBe(false);
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
    expect(contains(IpRanges.parse(['0.0.0.0/0']), '2001:db8::1')).toBe(false);
    expect(contains(IpRanges.parse(['::/0']), '2001:db8::1')).toBe(true);
  });

  it('matches nothing when empty', () => {
    expect(IpRanges.NONE.empty).toBe(true);
    expect(IpRanges.parse([]).empty).toBe(true);
    expect(contains(IpRanges.NONE, '127.0.0.1')).toBe(false);
  });

  it('refuses a malformed entry, naming it', () => {
    for (const entry of [
      '10.0.0.0/33',
      '2001:db8::/129',
      '10.0.0.0/',
      '10.0.0.0/-1',
      '10.0.0.0/8/8',
      'localhost',
      '10.0.0.0/0x8',
      'fe80::1%eth0',
      '*',
    ]) {
      expect(() => IpRanges.parse([entry])).toThrow(entry);
    }
  });
});
