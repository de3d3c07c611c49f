import { describe, expect, it } from '@jest/globals';
import { generateApiKey, hashApiKey } from '@app/contracts';
import { keyHashFromHex, keyHashOf } from './key-hash.js';

describe('keyHashOf', () => {
  it('is the hash key-management stores and events carry, for every kind of key', () => {
    for (const key of [generateApiKey('chatbot'), generateApiKey('user'), 'legacy-Key_0123456789~!', 'ünïcødé-legacy-key-000']) {
      expect(keyHashOf(key)).toBe(keyHashFromHex(hashApiKey(key)));
      expect(Buffer.from(keyHashOf(key), 'latin1').toString('hex')).toBe(hashApiKey(key));
      expect(keyHashOf(key)).toHaveLength(32);
    }
  });

  it('matches no key for a hash that is not 64 hex digits', () => {
    const key = generateApiKey('chatbot');
    expect(keyHashFromHex(`${hashApiKey(key).slice(0, 63)}z`)).not.toBe(keyHashOf(key));
  });
});
