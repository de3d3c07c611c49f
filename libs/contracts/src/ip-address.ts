/**
 * IPv4 and IPv6 addresses, read by character codes (no split, no regular expression, no bigint):
 * the gateway reads one for every request, to find the client and to judge a key's allow-list.
 * node:net's BlockList costs far more per check than comparing parsed numbers.
 */

/** A parsed address: IPv4 as one unsigned 32-bit number, IPv6 as eight 16-bit words. */
export type IpAddress = { family: 4; value: number } | { family: 6; words: number[] };

const COLON = 58;
const DOT = 46;

/** The dotted quad `text[start, end)`; leading zeros are refused: some parsers read `010` as octal, others as decimal. */
function parseIPv4(text: string, start: number, end: number): number | null {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === DOT) {
      if (digits === 0 || dots === 3) return null;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (code >= 48 && code <= 57) {
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

/** 0–15 for a hex digit of either case, else -1. */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/**
 * RFC 4291 text forms of `text[0, end)`: 1–4 hex digits a group, at most one `::`, and a dotted
 * IPv4 address allowed as the last two words only.
 */
function parseIPv6(text: string, end: number): number[] | null {
  if (end > 45) return null;
  const words: number[] = [];
  let gap = -1; // where `::` stands, in words
  let i = 0;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return null;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    const start = i;
    let word = 0;
    let digit = hexDigit(text.charCodeAt(i));
    while (digit !== -1 && i < end) {
      if (i - start === 4) return null;
      word = word * 16 + digit;
      digit = hexDigit(text.charCodeAt(++i));
    }
    if (i < end && text.charCodeAt(i) === DOT) {
      const ipv4 = parseIPv4(text, start, end);
      if (ipv4 === null) return null;
      words.push(ipv4 >>> 16, ipv4 & 0xffff);
      break;
    }
    if (i === start) return null;
    words.push(word);
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON || ++i === end) return null;
    if (text.charCodeAt(i) === COLON) {
      if (gap !== -1) return null;
      gap = words.length;
      i++;
    }
  }
  if (gap === -1) return words.length === 8 ? words : null;
  if (words.length > 7) return null;
  const full = [0, 0, 0, 0, 0, 0, 0, 0];
  const tail = words.length - gap;
  for (let w = 0; w < gap; w++) full[w] = words[w];
  for (let w = 0; w < tail; w++) full[8 - tail + w] = words[gap + w];
  return full;
}

/** An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports) as its IPv4 address. */
function fromWords(words: number[]): IpAddress {
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff) {
    return { family: 4, value: words[6] * 0x10000 + words[7] };
  }
  return { family: 6, words };
}

/**
 * Parses an IPv4 or IPv6 address; null when it is neither. An IPv6 zone (`%eth0`) is dropped and
 * an IPv4-mapped IPv6 address is its IPv4 address, so one client has one address whichever way it
 * is written.
 */
export function parseIpAddress(text: string): IpAddress | null {
  // IPv4 first: it is the common case, and a colon ends it at once.
  const value = parseIPv4(text, 0, text.length);
  if (value !== null) return { family: 4, value };
  if (!text.includes(':')) return null;
  const zone = text.indexOf('%');
  const words = parseIPv6(text, zone === -1 ? text.length : zone);
  return words === null ? null : fromWords(words);
}

/** As `parseIpAddress`, but zone-scoped text (`fe80::1%eth0`) is not an address: the zone names a link of one host only. */
export function parseUnscopedIpAddress(text: string): IpAddress | null {
  const value = parseIPv4(text, 0, text.length);
  if (value !== null) return { family: 4, value };
  if (!text.includes(':')) return null;
  const words = parseIPv6(text, text.length);
  return words === null ? null : fromWords(words);
}

/** The canonical text of an address: dotted IPv4, or RFC 5952 IPv6 (lower case, longest zero run of 2+ as `::`, first on a tie). */
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
