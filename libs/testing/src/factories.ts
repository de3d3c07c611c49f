import { randomBytes } from 'node:crypto';
import {
  displayPrefix,
  generateApiKey,
  hashApiKey,
  type AdminCreateAccount,
  type AdminCreateChatbot,
  type AdminCreateUser,
  type KeyType,
  type Plan,
  type Role,
} from '@app/contracts';

/** Unique enough for names and emails within and across runs. */
export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

/** A valid `adminCreateAccount` payload; a paid plan unless told otherwise. */
export function accountPayload(overrides: Partial<AdminCreateAccount> = {}): AdminCreateAccount {
  return { name: `Account ${uniqueSuffix()}`, plan: 'standard' satisfies Plan, ...overrides };
}

export function chatbotPayload(accountId: string, overrides: Partial<Omit<AdminCreateChatbot, 'accountId'>> = {}): AdminCreateChatbot {
  return { accountId, name: `Chatbot ${uniqueSuffix()}`, ...overrides };
}

export function userPayload(
  accountId: string,
  role: Role,
  overrides: Partial<Omit<AdminCreateUser, 'accountId' | 'role'>> = {},
): AdminCreateUser {
  const suffix = uniqueSuffix();
  return { accountId, role, email: `user-${suffix}@example.test`, ssoSubject: `sso|${suffix}`, ...overrides };
}

/** A fresh key as the gateway makes it: the plaintext stays with the test, only hash and prefix go to key-management. */
export function keyMaterial(type: KeyType): { key: string; keyHash: string; prefix: string } {
  const key = generateApiKey(type);
  return { key, keyHash: hashApiKey(key), prefix: displayPrefix(key) };
}
