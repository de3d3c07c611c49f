import { hash } from 'node:crypto';

/**
 * The key's SHA-256 in hex, the same value as `hashApiKey` (events and the verifier use that
 * one), computed with the one-shot `crypto.hash`: no Hash object per request on the hot path.
 */
export function keyHashOf(key: string): string {
  return hash('sha256', key, 'hex');
}
