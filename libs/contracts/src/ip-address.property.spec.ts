import { isIP } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { formatIpAddress, parseIpAddress, parseUnscopedIpAddress, type IpAddress } from './ip-address.js';
import { IpRanges } from './ip-ranges.js';

const RUNS = { numRuns: 2000 };
/** Near-addresses: the pieces addresses are made of, glued at random, with real addresses among them. */
const piece = fc.oneof(
  fc.constantFrom(...'0123456789abcdefABCDEF:.'),
  fc.constantFrom('::', '::ffff:', '0', '00', '255', '256', '1.2.3.4', '0000', '12345', '1:2:3:4'),
  fc.integer({ min: 0, max: 0xffff }).map((word) => word.toString(16)),
);
const nearAddress = fc.oneof(
  fc.array(piece, { maxLength: 16 }).map((pieces) => pieces.join('')),
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6(),
);
const words = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });

describe('IP addresses (properties)', () => {
  it('accepts exactly what node:net calls an IP address', () => {
    fc.assert(
      fc.property(nearAddress, (text) => {
        expect([text, parseUnscopedIpAddress(text) !== null]).toEqual([text, isIP(text) !== 0]);
      }),
      RUNS,
    );
  });

  it('reads back every address it writes, an IPv4-mapped one as IPv4', () => {
    fc.assert(
      fc.property(words, (address) => {
        const mapped = address.slice(0, 6).join() === '0,0,0,0,0,65535';
        const expected: IpAddress = mapped ? { family: 4, value: address[6] * 0x10000 + address[7] } : { family: 6, words: address };
        expect(parseIpAddress(formatIpAddress({ family: 6, words: address }))).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('holds an address differing from a range only past its prefix, and none differing within it', () => {
    fc.assert(
      fc.property(words, fc.integer({ min: 0, max: 128 }), fc.integer({ min: 0, max: 127 }), (network, prefixLength, bit) => {
        fc.pre(network.slice(0, 6).join() !== '0,0,0,0,0,65535');
        const client = network.slice();
        client[bit >> 4] ^= 1 << (15 - (bit & 15));
        const ranges = IpRanges.parse([`${formatIpAddress({ family: 6, words: network })}/${prefixLength}`]);
        expect(ranges.contains({ family: 6, words: client })).toBe(bit >= prefixLength);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 31 }),
        (network, prefixLength, bit) => {
          const ranges = IpRanges.parse([`${formatIpAddress({ family: 4, value: network })}/${prefixLength}`]);
          expect(ranges.contains({ family: 4, value: (network ^ (1 << (31 - bit))) >>> 0 })).toBe(bit >= prefixLength);
        },
      ),
      RUNS,
    );
  });
});
