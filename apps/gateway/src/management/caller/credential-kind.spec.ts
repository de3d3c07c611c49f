import { describe, it, expect } from '@jest/globals';
import { generateApiKey } from '@app/contracts';
import { isJwtShaped } from './credential-kind.js';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (header: object, signature = 'c2lnbmF0dXJl') => `${b64(header)}.${b64({ sub: 'user-1' })}.${signature}`;

describe('isJwtShaped', () => {
  it('recognises JWTs, signed or not', () => {
    expect(isJwtShaped(jwt({ alg: 'RS256', typ: 'JWT', kid: 'k1' }))).toBe(true);
    expect(isJwtShaped(jwt({ alg: 'HS256' }))).toBe(true);
    expect(isJwtShaped(jwt({ alg: 'none' }, ''))).toBe(true);
  });

  it('leaves API keys to the key path, including legacy keys with dots', () => {
    expect(isJwtShaped(generateApiKey('user'))).toBe(false);
    expect(isJwtShaped(generateApiKey('chatbot'))).toBe(false);
    expect(isJwtShaped('legacy.key-0123.456789')).toBe(false);
    expect(isJwtShaped(`${b64({ typ: 'JWT' })}.${b64({})}.sig`)).toBe(false);
    expect(isJwtShaped(`${b64({ alg: 'HS256' })}.${b64({})}`)).toBe(false);
    expect(isJwtShaped(`${b64({ alg: 'HS256' })}.${b64({})}.si/g`)).toBe(false);
  });
});
