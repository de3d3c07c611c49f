import { describe, expect, it } from '@jest/globals';
import { canonicalIpAddress, parseIpAddress, parseUnscopedIpAddress } from './ip-address.js';

describe('IP addresses', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::FFFF:c000:207', '192.0.2.7'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0000:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1::', '1::'],
    ['::', '::'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:192.0.2.33', '1:2:3:4:5:6:c000:221'],
    ['fe80::1%eth0', 'fe80::1'],
  ])('reads %s as %s', (text, canonical) => expect(canonicalIpAddress(text)).toBe(canonical));

  it.each([
    '',
    ' ',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '01.2.3.4',
    '1.2.3.4 ',
    '1.2.3.4%eth0',
    'a.b.c.d',
    '1::2::3',
    '2001:db8:::1',
    ':1',
    '1:',
    ':::',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::8',
    '12345::',
    'g::1',
    '1.2.3.4::',
    '::1.2.3.4:5',
    '::01.2.3.4',
    'unknown',
    '1.2.3.4/8',
  ])('refuses %j', (text) => expect(parseIpAddress(text)).toBeNull());

  it('keeps an IPv6 zone out of an address only where asked to: a zone names a link of one host', () => {
    expect(parseIpAddress('fe80::1%eth0')).toEqual({ family: 6, words: [0xfe80, 0, 0, 0, 0, 0, 0, 1] });
    expect(parseUnscopedIpAddress('fe80::1%eth0')).toBeNull();
    expect(parseUnscopedIpAddress('fe80::1')).toEqual({ family: 6, words: [0xfe80, 0, 0, 0, 0, 0, 0, 1] });
    expect(parseUnscopedIpAddress('::ffff:192.0.2.7')).toEqual({ family: 4, value: 0xc0000207 });
  });
});
