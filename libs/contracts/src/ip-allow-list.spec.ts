import { describe, expect, it } from '@jest/globals';
import { AllowedIpsSchema, IpAllowList, canonicalIpRule } from './ip-allow-list.js';

describe('canonicalIpRule', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['203.0.113.7/32', '203.0.113.7'],
    ['203.0.113.7/24', '203.0.113.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0000:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8::1/128', '2001:db8::1'],
    ['2001:db8:abcd:12::/48', '2001:db8:abcd::/48'],
    ['::', '::'],
    ['::/0', '::/0'],
    ['fe80::1:2', 'fe80::1:2'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.0/120', '192.0.2.0/24'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%s is %s', (input, canonical) => expect(canonicalIpRule(input)).toBe(canonical));

  it.each([
    '',
    'example.com',
    '256.0.0.1',
    '1.2.3',
    '01.2.3.4',
    '1.2.3.4/33',
    '1.2.3.4/',
    '1.2.3.4/08',
    '1.2.3.4/-1',
    '2001:db8::1/129',
    '2001:db8:::1',
    '2001:db8::1::2',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    'fe80::1%eth0',
    '12345::',
    '1.2.3.4::',
    '::ffff:192.0.2.0/95',
  ])('refuses %j', (input) => expect(canonicalIpRule(input)).toBeNull());
});

describe('AllowedIpsSchema', () => {
  it('takes 1–100 entries, canonical and without repeats', () => {
    expect(AllowedIpsSchema.parse([' 10.1.2.3/8 ', '10.0.0.0/8', '2001:DB8::1'])).toEqual(['10.0.0.0/8', '2001:db8::1']);
    expect(AllowedIpsSchema.safeParse([]).success).toBe(false);
    expect(AllowedIpsSchema.safeParse(Array.from({ length: 101 }, (_, i) => `10.0.${i}.1`)).success).toBe(false);
    expect(AllowedIpsSchema.safeParse(Array.from({ length: 100 }, (_, i) => `10.0.${i}.1`)).success).toBe(true);
    expect(AllowedIpsSchema.safeParse(['10.0.0.1', 'nope']).success).toBe(false);
  });
});

describe('IpAllowList', () => {
  const list = new IpAllowList(['203.0.113.0/24', '198.51.100.7', '2001:db8::/32', 'fe80::1']);

  it.each([
    ['203.0.113.1', true],
    ['203.0.113.255', true],
    ['203.0.114.1', false],
    ['198.51.100.7', true],
    ['198.51.100.8', false],
    ['::ffff:203.0.113.9', true],
    ['::ffff:198.51.100.8', false],
    ['2001:db8:1234::5', true],
    ['2001:DB9::5', false],
    ['fe80::1', true],
    ['fe80::2', false],
    ['fe80::1%eth0', false],
    ['', false],
    ['not an address', false],
  ])('%j allowed: %s', (address, allowed) => expect(list.allows(address)).toBe(allowed));

  it('never matches an IPv4 address against an IPv6 rule of the same bits', () => {
    expect(new IpAllowList(['::/0']).allows('10.0.0.1')).toBe(false);
    expect(new IpAllowList(['0.0.0.0/0']).allows('2001:db8::1')).toBe(false);
  });

  it('refuses to build from an entry that is not an address', () => {
    expect(() => new IpAllowList(['10.0.0.0/8', 'x'])).toThrow();
  });
});
