import { formatIpAddress, parseUnscopedIpAddress, type IpAddress } from './ip-address.js';

/** An address or CIDR range, host bits cleared: `192.0.2.7` is `192.0.2.7/32`. */
export interface IpRange {
  address: IpAddress;
  prefixLength: number;
}

/** Decimal, no leading zero: `/08` is refused as `010` is in an address. */
const PREFIX = /^(0|[1-9]\d{0,2})$/;

const bitsOf = (address: IpAddress) => (address.family === 4 ? 32 : 128);

/** The bits of a 16-bit word that a prefix covers, `bits` being what is left of the prefix at that word. */
const wordMask = (bits: number) => (bits >= 16 ? 0xffff : bits <= 0 ? 0 : (0xffff << (16 - bits)) & 0xffff);
const ipv4Mask = (prefixLength: number) => (prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0);

/**
 * `192.0.2.7`, `10.0.0.0/8`, `2001:db8::/32`; null for anything else, a zone-scoped address
 * (`fe80::1%eth0`) included. An IPv4-mapped IPv6 entry is an IPv4 range, and a prefix written on
 * that form counts the 96 bits in front of the IPv4 address (`::ffff:10.0.0.0/104` is `10.0.0.0/8`).
 */
export function parseIpRange(text: string): IpRange | null {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const address = parseUnscopedIpAddress(addressText);
  if (address === null) return null;
  if (slash === -1) return { address, prefixLength: bitsOf(address) };
  const prefixText = text.slice(slash + 1);
  if (!PREFIX.test(prefixText)) return null;
  const prefixLength = Number(prefixText) - (address.family === 4 && addressText.includes(':') ? 96 : 0);
  if (prefixLength < 0 || prefixLength > bitsOf(address)) return null;
  if (address.family === 4) return { address: { family: 4, value: (address.value & ipv4Mask(prefixLength)) >>> 0 }, prefixLength };
  return { address: { family: 6, words: address.words.map((word, i) => word & wordMask(prefixLength - 16 * i)) }, prefixLength };
}

/** The canonical text of a range: its address canonical, and no prefix when it is one address. */
export function formatIpRange(range: IpRange): string {
  const address = formatIpAddress(range.address);
  return range.prefixLength === bitsOf(range.address) ? address : `${address}/${range.prefixLength}`;
}

/** Why `entry` is not a range, naming it, for a configuration message. */
function refusal(entry: string): string {
  const slash = entry.indexOf('/');
  const address = entry.includes('%') ? null : parseUnscopedIpAddress(slash === -1 ? entry : entry.slice(0, slash));
  if (address === null) return `"${entry}" is not an IP address or CIDR range`;
  return `"${entry}" has a prefix length outside 0–${bitsOf(address)}`;
}

interface IPv4Network {
  network: number;
  mask: number;
}

/** The words a prefix covers (the rest match anything), each with its mask. */
interface IPv6Network {
  words: number[];
  masks: number[];
}

/**
 * A set of addresses and CIDR ranges, parsed once and matched per request. IPv4 and IPv6 never
 * match each other: `::/0` holds no IPv4 client, not even one a dual-stack socket reports mapped.
 */
export class IpRanges {
  static readonly NONE = new IpRanges([]);

  private readonly ipv4: IPv4Network[] = [];
  private readonly ipv6: IPv6Network[] = [];

  constructor(ranges: readonly IpRange[]) {
    for (const { address, prefixLength } of ranges) {
      if (address.family === 4) {
        const mask = ipv4Mask(prefixLength);
        this.ipv4.push({ network: (address.value & mask) >>> 0, mask });
      } else {
        const masks = Array.from({ length: Math.ceil(prefixLength / 16) }, (_, i) => wordMask(prefixLength - 16 * i));
        this.ipv6.push({ words: masks.map((mask, i) => address.words[i] & mask), masks });
      }
    }
  }

  /** Entries as written, e.g. a split configuration value. Throws on the first one that is not an address or CIDR, naming it. */
  static parse(entries: readonly string[]): IpRanges {
    return new IpRanges(
      entries.map((entry) => {
        const range = parseIpRange(entry);
        if (range === null) throw new Error(refusal(entry));
        return range;
      }),
    );
  }

  get empty(): boolean {
    return this.ipv4.length === 0 && this.ipv6.length === 0;
  }

  contains(address: IpAddress): boolean {
    if (address.family === 4) {
      const { value } = address;
      for (const { network, mask } of this.ipv4) if ((value & mask) >>> 0 === network) return true;
      return false;
    }
    for (const network of this.ipv6) if (wordsMatch(address.words, network)) return true;
    return false;
  }
}

function wordsMatch(words: number[], { words: network, masks }: IPv6Network): boolean {
  for (let i = 0; i < masks.length; i++) if ((words[i] & masks[i]) !== network[i]) return false;
  return true;
}
