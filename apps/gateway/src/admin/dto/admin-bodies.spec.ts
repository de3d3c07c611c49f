import { describe, it, expect } from '@jest/globals';
import { generateApiKey } from '@app/contracts';
import {
  CreateAccountBodySchema,
  CreateChatbotBodySchema,
  CreateUserBodySchema,
  ImportLegacyKeyBodySchema,
  SetUserChatbotsBodySchema,
  UpdateAccountBodySchema,
} from './admin-bodies.js';

const accepts = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) => schema.safeParse(value).success;

describe('admin bodies', () => {
  it('take the account fields and nothing else', () => {
    expect(accepts(CreateAccountBodySchema, { name: 'Acme', plan: 'entry' })).toBe(true);
    expect(accepts(CreateAccountBodySchema, { name: 'Acme', plan: 'gold' })).toBe(false);
    expect(accepts(CreateAccountBodySchema, { name: 'Acme' })).toBe(false);
    expect(accepts(CreateAccountBodySchema, { name: 'Acme', plan: 'entry', id: 'mine' })).toBe(false);
    expect(accepts(UpdateAccountBodySchema, { plan: 'free' })).toBe(true);
    expect(accepts(UpdateAccountBodySchema, { name: 'Renamed' })).toBe(true);
    // The id comes from the path only.
    expect(accepts(UpdateAccountBodySchema, { accountId: 'other', plan: 'free' })).toBe(false);
    expect(accepts(UpdateAccountBodySchema, { plan: 3 })).toBe(false);
  });

  it('take chatbot and user fields strictly, without path ids', () => {
    expect(accepts(CreateChatbotBodySchema, { name: 'Support bot' })).toBe(true);
    expect(accepts(CreateChatbotBodySchema, { name: 'Support bot', accountId: 'other' })).toBe(false);
    expect(accepts(CreateUserBodySchema, { email: 'a@example.com', role: 'member', chatbotIds: ['c1'] })).toBe(true);
    expect(accepts(CreateUserBodySchema, { email: 'a@example.com', role: 'owner', ssoSubject: 'sub-1' })).toBe(true);
    expect(accepts(CreateUserBodySchema, { email: 'not an email', role: 'member' })).toBe(false);
    expect(accepts(CreateUserBodySchema, { email: 'a@example.com', role: 'root' })).toBe(false);
    expect(accepts(CreateUserBodySchema, { email: 'a@example.com', role: 'admin', password: 'x' })).toBe(false);
    expect(accepts(SetUserChatbotsBodySchema, { chatbotIds: [] })).toBe(true);
    expect(accepts(SetUserChatbotsBodySchema, { chatbotIds: 'c1' })).toBe(false);
    expect(accepts(SetUserChatbotsBodySchema, { chatbotIds: ['c1'], userId: 'other' })).toBe(false);
  });

  it('refuse the NUL character in stored text (PostgreSQL cannot hold it)', () => {
    expect(accepts(CreateAccountBodySchema, { name: 'Ac\u0000me', plan: 'entry' })).toBe(false);
    expect(accepts(UpdateAccountBodySchema, { name: '\u0000' })).toBe(false);
    expect(accepts(CreateChatbotBodySchema, { name: 'bot\u0000' })).toBe(false);
    expect(accepts(CreateUserBodySchema, { email: 'a@example.com', role: 'owner', ssoSubject: 'sub\u0000' })).toBe(false);
    expect(accepts(CreateUserBodySchema, { email: 'a\u0000@example.com', role: 'owner' })).toBe(false);
  });

  describe('legacy key import', () => {
    const sha = 'ab'.repeat(32);

    it('takes exactly one of key or sha256', () => {
      expect(accepts(ImportLegacyKeyBodySchema, { key: 'legacy-key-0123456789' })).toBe(true);
      expect(accepts(ImportLegacyKeyBodySchema, { sha256: sha })).toBe(true);
      expect(accepts(ImportLegacyKeyBodySchema, { sha256: sha.toUpperCase() })).toBe(true);
      expect(accepts(ImportLegacyKeyBodySchema, { key: 'legacy-key-0123456789', sha256: sha })).toBe(false);
      expect(accepts(ImportLegacyKeyBodySchema, {})).toBe(false);
      expect(accepts(ImportLegacyKeyBodySchema, { key: 'legacy-key-0123456789', name: 'x' })).toBe(false);
    });

    it('takes keys of 20–256 printable ASCII characters without spaces', () => {
      expect(accepts(ImportLegacyKeyBodySchema, { key: 'x'.repeat(20) })).toBe(true);
      expect(accepts(ImportLegacyKeyBodySchema, { key: 'x'.repeat(256) })).toBe(true);
      expect(accepts(ImportLegacyKeyBodySchema, { key: 'x'.repeat(19) })).toBe(false);
      expect(accepts(ImportLegacyKeyBodySchema, { key: 'x'.repeat(257) })).toBe(false);
      expect(accepts(ImportLegacyKeyBodySchema, { key: 'legacy key with spaces' })).toBe(false);
      expect(accepts(ImportLegacyKeyBodySchema, { key: 'légacy-key-0123456789' })).toBe(false);
      expect(accepts(ImportLegacyKeyBodySchema, { key: 1234567890123456 })).toBe(false);
    });

    it('refuses keys the gateway would never accept as user-level keys', () => {
      // A known prefix with a wrong checksum is refused at the gateway without a lookup.
      expect(accepts(ImportLegacyKeyBodySchema, { key: 'usk_this-is-not-a-valid-key' })).toBe(false);
      expect(accepts(ImportLegacyKeyBodySchema, { key: generateApiKey('chatbot') })).toBe(false);
      expect(accepts(ImportLegacyKeyBodySchema, { key: generateApiKey('user') })).toBe(true);
    });

    it('takes sha256 as exactly 64 hexadecimal characters', () => {
      expect(accepts(ImportLegacyKeyBodySchema, { sha256: sha.slice(1) })).toBe(false);
      expect(accepts(ImportLegacyKeyBodySchema, { sha256: `${sha}0` })).toBe(false);
      expect(accepts(ImportLegacyKeyBodySchema, { sha256: 'g'.repeat(64) })).toBe(false);
    });
  });
});
