import { z } from 'zod';
import { parseUnscopedIpAddress } from './ip-address.js';
import { formatIpRange, IpRanges, parseIpRange } from './ip-ranges.js';

/**
 * The canonical spelling of an allow-list entry, or null when it is neither an IPv4/IPv6
 * address nor a CIDR: host bits are cleared (`203.0.113.7/24` is `203.0.113.0/24`), a full-length
 * prefix is dropped, IPv6 is written per RFC 5952 and an IPv4-mapped IPv6 entry as IPv4.
 */
export function canonicalIpRule(text: string): string | null {
  const range = parseIpRange(text);
  return range ? formatIpRange(range) : null;
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
  private readonly ranges: IpRanges;

  constructor(entries: readonly string[]) {
    this.ranges = IpRanges.parse(entries);
  }

  allows(clientAddress: string): boolean {
    const client = parseUnscopedIpAddress(clientAddress);
    return client !== null && this.ranges.contains(client);
  }
}
