import { hash } from 'node:crypto';

/**
 * The key's SHA-256 as the gateway holds it in memory: the digest's 32 bytes as a one-byte string,
 * half the size of the 64 hex digits key-management stores and events carry (`keyHashFromHex`
 * turns those into this form; 'binary' is Node's name for latin1). Computed with the one-shot `crypto.hash`: no Hash object per
 * request on the hot path.
 */
export function keyHashOf(key: string): string {
  return hash('sha256', key, 'binary');
}

/** The in-memory form (`keyHashOf`) of a hash given as hex, as events carry it. */
export function keyHashFromHex(hex: string): string {
  return Buffer.from(hex, 'hex').toString('latin1');
}
