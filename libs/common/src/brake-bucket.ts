import { formatIpAddress, parseIpAddress } from '@app/contracts';

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
