/**
 * IPv4 and IPv6 addresses and CIDR ranges, parsed by hand: the gateway matches on the request
 * path, and node:net's BlockList costs far more per check than comparing parsed numbers.
 */

/** A parsed address: IPv4 as one unsigned 32-bit number, IPv6 as eight 16-bit words. */
export type IpAddress = { family: 4; value: number } | { family: 6; words: number[] };

const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** Dotted quad, read by character codes (no split, no regular expression): it runs on the request path. */
function parseIPv4(text: string): number | null {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46 /* . */) {
      if (digits === 0 || dots === 3) return null;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (code >= 48 && code <= 57) {
      // Leading zeros are refused: some parsers read `010` as octal, others as decimal.
      if (digits === 1 && octet === 0) return null;
      octet = octet * 10 + (code - 48);
      if (octet > 255) return null;
      digits++;
    } else {
      return null;
    }
  }
  if (dots !== 3 || digits === 0) return null;
  return value * 256 + octet;
}

function parseIPv6(text: string): number[] | null {
  if (text.length > 45) return null;
  const double = text.indexOf('::');
  if (double !== -1 && text.indexOf('::', double + 1) !== -1) return null;
  const head = double === -1 ? text : text.slice(0, double);
  const tail = double === -1 ? '' : text.slice(double + 2);
  const headWords = head === '' ? [] : hextets(head, double === -1);
  const tailWords = tail === '' ? [] : hextets(tail, true);
  if (headWords === null || tailWords === null) return null;
  const given = headWords.length + tailWords.length;
  if (double === -1 ? given !== 8 : given > 7) return null;
  return [...headWords, ...new Array<number>(8 - given).fill(0), ...tailWords];
}

/** The 16-bit words of `a:b:c`; the last group may be a dotted IPv4 address (two words). */
function hextets(text: string, ipv4Last: boolean): number[] | null {
  const groups = text.split(':');
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i];
    if (ipv4Last && i === groups.length - 1 && group.includes('.')) {
      const ipv4 = parseIPv4(group);
      if (ipv4 === null) return null;
      words.push(ipv4 >>> 16, ipv4 & 0xffff);
    } else {
      if (!HEXTET.test(group)) return null;
      words.push(parseInt(group, 16));
    }
  }
  return words;
}

/**
 * Parses an IPv4 or IPv6 address; null when it is neither. An IPv6 zone (`%eth0`) is dropped and
 * an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports) is its IPv4
 * address, so one client has one address whichever way it is written.
 */
export function parseIpAddress(text: string): IpAddress | null {
  if (text.includes(':')) {
    const zone = text.indexOf('%');
    const words = parseIPv6(zone === -1 ? text : text.slice(0, zone));
    if (words === null) return null;
    if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff) {
      return { family: 4, value: words[6] * 0x10000 + words[7] };
    }
    return { family: 6, words };
  }
  const value = parseIPv4(text);
  return value === null ? null : { family: 4, value };
}

/** The canonical text of an address: dotted IPv4, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIpAddress(address: IpAddress): string {
  if (address.family === 4) {
    const { value } = address;
    return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
  }
  const { words } = address;
  let bestStart = -1;
  let bestLength = 1; // a single zero word is not shortened
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && words[end] === 0) end++;
    if (end - i > bestLength) [bestStart, bestLength] = [i, end - i];
    i = end;
  }
  const hex = words.map((word) => word.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The canonical text of `text` if it is an address, else null. */
export function canonicalIpAddress(text: string): string | null {
  const address = parseIpAddress(text);
  return address === null ? null : formatIpAddress(address);
}

/**
 * Whom a brake on failed guesses counts: an IPv4 address, or the /64 an IPv6 address is in. One
 * IPv6 subscriber is routinely given a whole /64 (RFC 6177), so counting full addresses would let a
 * single client rotate through 2^64 of them; text that is not an address is its own bucket.
 */
export function brakeBucket(address: string): string {
  const parsed = parseIpAddress(address);
  if (parsed === null) return address;
  if (parsed.family === 4) return formatIpAddress(parsed);
  return `${formatIpAddress({ family: 6, words: [...parsed.words.slice(0, 4), 0, 0, 0, 0] })}/64`;
}

interface IPv4Range {
  network: number;
  mask: number;
}

interface IPv6Range {
  words: number[];
  prefix: number;
}

/**
 * A set of addresses and CIDR ranges (`192.0.2.7`, `10.0.0.0/8`, `2001:db8::/32`), parsed once.
 * `parse` refuses anything else with an error naming the entry, for a configuration message.
 */
export class IpRanges {
  static readonly NONE = new IpRanges([], []);

  private constructor(
    private readonly ipv4: IPv4Range[],
    private readonly ipv6: IPv6Range[],
  ) {}

  /** Entries as written, e.g. a split configuration value. Throws on the first one that is not an address or CIDR. */
  static parse(entries: readonly string[]): IpRanges {
    const ipv4: IPv4Range[] = [];
    const ipv6: IPv6Range[] = [];
    for (const entry of entries) {
      const slash = entry.indexOf('/');
      const address = parseIpAddress(slash === -1 ? entry : entry.slice(0, slash));
      if (address === null || entry.includes('%')) throw new Error(`"${entry}" is not an IP address or CIDR range`);
      const bits = address.family === 4 ? 32 : 128;
      const prefixText = slash === -1 ? String(bits) : entry.slice(slash + 1);
      const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      // A mapped IPv6 entry (`::ffff:10.0.0.0/104`) is read as IPv4, so its prefix counts the last 32 bits.
      const ownPrefix = address.family === 4 && entry.includes(':') ? prefix - 96 : prefix;
      if (!(ownPrefix >= 0 && ownPrefix <= bits)) throw new Error(`"${entry}" has a prefix length outside 0–${bits}`);
      if (address.family === 4) {
        const mask = ownPrefix === 0 ? 0 : (0xffffffff << (32 - ownPrefix)) >>> 0;
        ipv4.push({ network: (address.value & mask) >>> 0, mask });
      } else {
        ipv6.push({ words: address.words, prefix: ownPrefix });
      }
    }
    return new IpRanges(ipv4, ipv6);
  }

  get empty(): boolean {
    return this.ipv4.length === 0 && this.ipv6.length === 0;
  }

  contains(address: IpAddress): boolean {
    if (address.family === 4) {
      for (const { network, mask } of this.ipv4) if ((address.value & mask) >>> 0 === network) return true;
      return false;
    }
    for (const range of this.ipv6) if (wordsMatch(address.words, range)) return true;
    return false;
  }
}

function wordsMatch(words: number[], range: IPv6Range): boolean {
  let bits = range.prefix;
  for (let i = 0; bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((words[i] & mask) !== (range.words[i] & mask)) return false;
  }
  return true;
}
