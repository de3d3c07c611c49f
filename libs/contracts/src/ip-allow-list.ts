import { z } from 'zod';

/** An address or network as numbers: IPv4 in 32 bits, IPv6 in 128. */
interface IpNetwork {
  family: 4 | 6;
  network: bigint;
  prefixLength: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;
const PREFIX = /^(0|[1-9]\d{0,2})$/;

function parseIpv4(text: string): bigint | null {
  if (!IPV4.test(text)) return null;
  return text.split('.').reduce((value, octet) => (value << 8n) | BigInt(octet), 0n);
}

/** RFC 4291 text forms, the embedded-IPv4 tail included; zone ids (`%eth0`) are not addresses here. */
function parseIpv6(text: string): bigint | null {
  if (text.length > 45 || !text.includes(':')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string): number[] | null => {
    if (part === '') return [];
    const words: number[] = [];
    const pieces = part.split(':');
    for (const [index, piece] of pieces.entries()) {
      if (index === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (v4 === null) return null;
        words.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (HEX_GROUP.test(piece)) {
        words.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return words;
  };
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (head === null || tail === null) return null;
  // An embedded IPv4 address may only end the address.
  if (halves.length === 2 && halves[0].includes('.')) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return words.reduce((value, word) => (value << 16n) | BigInt(word), 0n);
}

/** A bare address; an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is its IPv4 address. */
function parseAddress(text: string): { family: 4 | 6; value: bigint } | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIpv6(text);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

const bitsOf = (family: 4 | 6) => (family === 4 ? 32 : 128);

function maskOf(family: 4 | 6, prefixLength: number): bigint {
  const bits = bitsOf(family);
  return ((1n << BigInt(prefixLength)) - 1n) << BigInt(bits - prefixLength);
}

function parseRule(text: string): IpNetwork | null {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const parsed = parseAddress(addressText);
  if (!parsed) return null;
  const v6Mapped = parsed.family === 4 && addressText.includes(':');
  let prefixLength = bitsOf(parsed.family);
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!PREFIX.test(prefixText)) return null;
    prefixLength = Number(prefixText);
    // A prefix written on the mapped IPv6 form counts the 96 bits in front of the IPv4 address.
    if (v6Mapped) prefixLength -= 96;
    if (prefixLength < 0 || prefixLength > bitsOf(parsed.family)) return null;
  }
  return { family: parsed.family, network: parsed.value & maskOf(parsed.family, prefixLength), prefixLength };
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** RFC 5952: lower case, no leading zeros, the longest run (2+ groups, first on a tie) of zeros as `::`. */
function formatIpv6(value: bigint): string {
  const words = Array.from({ length: 8 }, (_, index) => Number((value >> BigInt(112 - 16 * index)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8;) {
    if (words[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && words[end] === 0) end++;
    if (end - start > bestLength) [bestStart, bestLength] = [start, end - start];
    start = end;
  }
  const hex = words.map((word) => word.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function formatRule(rule: IpNetwork): string {
  const address = rule.family === 4 ? formatIpv4(rule.network) : formatIpv6(rule.network);
  return rule.prefixLength === bitsOf(rule.family) ? address : `${address}/${rule.prefixLength}`;
}

/**
 * The canonical spelling of an allow-list entry, or null when it is neither an IPv4/IPv6
 * address nor a CIDR: host bits are cleared (`203.0.113.7/24` is `203.0.113.0/24`), a full-length
 * prefix is dropped, IPv6 is written per RFC 5952 and an IPv4-mapped IPv6 entry as IPv4.
 */
export function canonicalIpRule(text: string): string | null {
  const rule = parseRule(text);
  return rule ? formatRule(rule) : null;
}

/** `allowedIps` as the API takes it: 1–100 addresses or CIDRs, stored canonical and without repeats. */
export const MAX_ALLOWED_IPS = 100;
const AllowedIpSchema = z
  .string()
  .max(100)
  .transform((text, context) => {
    const canonical = canonicalIpRule(text.trim());
    if (canonical === null) {
      context.addIssue({ code: 'custom', message: 'must be an IPv4 or IPv6 address or CIDR (e.g. 203.0.113.0/24, 2001:db8::/32)' });
      return z.NEVER;
    }
    return canonical;
  });
export const AllowedIpsSchema = z
  .array(AllowedIpSchema)
  .min(1)
  .max(MAX_ALLOWED_IPS)
  .transform((rules) => [...new Set(rules)]);

/**
 * A key's IP allow-list, parsed once. A client address that is not an address (or a zone-scoped
 * one) matches nothing: a key with an allow-list fails closed.
 */
export class IpAllowList {
  private readonly rules: IpNetwork[];

  constructor(entries: readonly string[]) {
    this.rules = entries.map((entry) => {
      const rule = parseRule(entry);
      if (!rule) throw new Error('an allow-list entry is not an address or CIDR');
      return rule;
    });
  }

  allows(clientAddress: string): boolean {
    const client = parseAddress(clientAddress);
    if (!client) return false;
    return this.rules.some(
      (rule) => rule.family === client.family && (client.value & maskOf(rule.family, rule.prefixLength)) === rule.network,
    );
  }
}
