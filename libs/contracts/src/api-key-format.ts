import { hash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;

export const KEY_PREFIXES = { chatbot: 'cbk_', user: 'usk_' } as const;
export type KeyType = keyof typeof KEY_PREFIXES;
export const KEY_LENGTH = 4 + RANDOM_LENGTH + CHECKSUM_LENGTH;
export const DISPLAY_PREFIX_LENGTH = 12;

const LEGACY_KEY = /^[\x21-\x7e]{20,256}$/;

export function base62Checksum(body: string): string {
  let value = crc32(body);
  let encoded = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    encoded = BASE62[value % 62] + encoded;
    value = Math.floor(value / 62);
  }
  return encoded;
}

/** Rejection sampling keeps every base62 character equally likely (256 is not a multiple of 62). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export function generateApiKey(type: KeyType): string {
  const body = KEY_PREFIXES[type] + randomBase62(RANDOM_LENGTH);
  return body + base62Checksum(body);
}

export type KeyShape = 'chatbot' | 'user' | 'legacy' | 'malformed';

/**
 * Classifies a presented key without any I/O: a key with a known prefix but a wrong
 * length or checksum is malformed and never leaves the gateway.
 */
export function classifyApiKey(key: string): KeyShape {
  for (const type of ['chatbot', 'user'] as const) {
    if (key.startsWith(KEY_PREFIXES[type])) {
      if (key.length !== KEY_LENGTH) return 'malformed';
      const body = key.slice(0, KEY_LENGTH - CHECKSUM_LENGTH);
      return base62Checksum(body) === key.slice(-CHECKSUM_LENGTH) && /^[0-9A-Za-z]+$/.test(key.slice(4)) ? type : 'malformed';
    }
  }
  return LEGACY_KEY.test(key) ? 'legacy' : 'malformed';
}

/**
 * Keys carry at least 190 random bits, so a fast unsalted hash is enough to make the stored value useless.
 * The one-shot `crypto.hash`: no Hash object per call, as the gateway hashes every request's key.
 */
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

export function displayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}
