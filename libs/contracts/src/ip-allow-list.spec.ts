import { describe, expect, it } from '@jest/globals';
import { AllowedIpsSchema, IpAllowList, canonicalIpRule } from './ip-allow-list.js';

// The grammar of an entry and its canonical spelling: ip-ranges.spec.ts.
describe('canonicalIpRule', () => {
  it('spells an entry canonical, or refuses it', () => {
    expect(canonicalIpRule('203.0.113.7/24')).toBe('203.0.113.0/24');
    expect(canonicalIpRule('2001:DB8:0:0:0:0:0:1/128')).toBe('2001:db8::1');
    expect(canonicalIpRule('::ffff:192.0.2.0/120')).toBe('192.0.2.0/24');
    for (const text of ['', 'example.com', '1.2.3.4/08', 'fe80::1%eth0', ' 10.0.0.1'])
      expect([text, canonicalIpRule(text)]).toEqual([text, null]);
  });
});

describe('AllowedIpsSchema', () => {
  it('takes 1–100 entries, canonical and without repeats', () => {
    expect(AllowedIpsSchema.parse([' 10.1.2.3/8 ', '10.0.0.0/8', '2001:DB8::1'])).toEqual(['10.0.0.0/8', '2001:db8::1']);
    expect(AllowedIpsSchema.safeParse([]).success).toBe(false);
    expect(AllowedIpsSchema.safeParse(Array.from({ length: 101 }, (_, i) => `10.0.${i}.1`)).success).toBe(false);
    expect(AllowedIpsSchema.safeParse(Array.from({ length: 100 }, (_, i) => `10.0.${i}.1`)).success).toBe(true);
  });

  it('names the entry that is not an address, with an example of one', () => {
    const refused = AllowedIpsSchema.safeParse(['10.0.0.1', 'nope']);
    expect(refused.success).toBe(false);
    expect(refused.error?.issues).toEqual([
      expect.objectContaining({ path: [1], message: 'must be an IPv4 or IPv6 address or CIDR (e.g. 203.0.113.0/24, 2001:db8::/32)' }),
    ]);
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
    expect(() => new IpAllowList(['10.0.0.0/8', 'x'])).toThrow('"x"');
  });
});
