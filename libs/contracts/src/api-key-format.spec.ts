import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { base62Checksum, classifyApiKey, displayPrefix, generateApiKey, hashApiKey, KEY_LENGTH } from './api-key-format.js';

describe('api key format', () => {
  it('makes 42-character chatbot and user keys that check out', () => {
    const chatbotKey = generateApiKey('chatbot');
    const userKey = generateApiKey('user');
    expect(chatbotKey).toMatch(/^cbk_[0-9A-Za-z]{38}$/);
    expect(userKey).toMatch(/^usk_[0-9A-Za-z]{38}$/);
    expect(chatbotKey).toHaveLength(KEY_LENGTH);
    expect(classifyApiKey(chatbotKey)).toBe('chatbot');
    expect(classifyApiKey(userKey)).toBe('user');
  });

  it('never repeats a key', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateApiKey('chatbot')));
    expect(keys.size).toBe(2000);
  });

  it('ends with the base62 CRC32 of everything before it', () => {
    const key = generateApiKey('chatbot');
    expect(key.slice(-6)).toBe(base62Checksum(key.slice(0, -6)));
    // The standard CRC-32 check value: CRC32("123456789") = 0xCBF43926.
    expect(base62Checksum('123456789')).toBe(encode62(0xcbf43926));
  });

  it('rejects a known prefix with a wrong checksum, length or alphabet', () => {
    const key = generateApiKey('chatbot');
    const flipped = key.slice(0, 10) + (key[10] === 'a' ? 'b' : 'a') + key.slice(11);
    expect(classifyApiKey(flipped)).toBe('malformed');
    expect(classifyApiKey(key.slice(0, -1))).toBe('malformed');
    expect(classifyApiKey(key + 'x')).toBe('malformed');
    expect(classifyApiKey('usk_' + key.slice(4))).toBe('malformed');
    const body = 'cbk_' + '-'.repeat(32);
    expect(classifyApiKey(body + base62Checksum(body))).toBe('malformed');
  });

  it('accepts legacy shapes of 20–256 printable characters without spaces', () => {
    expect(classifyApiKey('legacy-key-0123456789')).toBe('legacy');
    expect(classifyApiKey('x'.repeat(256))).toBe('legacy');
    expect(classifyApiKey('x'.repeat(19))).toBe('malformed');
    expect(classifyApiKey('x'.repeat(257))).toBe('malformed');
    expect(classifyApiKey('has a space in it, 20+')).toBe('malformed');
    expect(classifyApiKey('non-ascii-é-0123456789')).toBe('malformed');
  });

  it('hashes to SHA-256 hex and shows a 12-character prefix', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    // Legacy keys may hold any character: hashed as their UTF-8 bytes.
    expect(hashApiKey('ü')).toBe(createHash('sha256').update(Buffer.from('ü', 'utf8')).digest('hex'));
    expect(displayPrefix('cbk_7Hq2Lx9aRest')).toBe('cbk_7Hq2Lx9a');
  });
});

function encode62(value: number): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = alphabet[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}
