import { describe, expect, it } from '@jest/globals';
import { generateApiKey, hashApiKey } from '@app/contracts';
import { keyHashOf } from './key-hash.js';

describe('keyHashOf', () => {
  it('is the hash key-management stores and events carry, for every kind of key', () => {
    for (const key of [generateApiKey('chatbot'), generateApiKey('user'), 'legacy-Key_0123456789~!', 'ünïcødé-legacy-key-000']) {
      expect(keyHashOf(key)).toBe(hashApiKey(key));
    }
  });
});
