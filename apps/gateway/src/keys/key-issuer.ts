import { displayPrefix, generateApiKey, hashApiKey, type KeyType } from '@app/contracts';

/** A freshly made key: the plaintext stays at the gateway, only hash and prefix go to key-management. */
export interface IssuedKey {
  key: string;
  keyHash: string;
  prefix: string;
}

export function issueKey(type: KeyType): IssuedKey {
  const key = generateApiKey(type);
  return { key, keyHash: hashApiKey(key), prefix: displayPrefix(key) };
}
