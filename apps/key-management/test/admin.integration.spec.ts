import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hashApiKey, type AccountView, type UserView } from '@app/contracts';
import { accountPayload, chatbotPayload, keyMaterial, userPayload } from '@app/testing';
import { outcome, startKeyManagementUnderTest, type KeyManagementUnderTest } from './key-management.harness.js';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('key-management over the bus: provisioning and lookups', () => {
  let km: KeyManagementUnderTest;
  let account: AccountView;
  let admin: UserView;
  const plaintexts: string[] = [];

  beforeAll(async () => {
    km = await startKeyManagementUnderTest();
    account = await km.bus.request('adminCreateAccount', accountPayload({ plan: 'professional' }));
    admin = await km.bus.request('adminCreateUser', userPayload(account.id, 'admin'));
  });

  afterAll(() => km?.stop());

  function newKey(type: 'chatbot' | 'user') {
    const material = keyMaterial(type);
    plaintexts.push(material.key);
    return { keyHash: material.keyHash, prefix: material.prefix };
  }

  it('answers lookups for accounts and live chatbots, null for anything unknown', async () => {
    const chatbot = await km.bus.request('adminCreateChatbot', chatbotPayload(account.id));
    expect(await km.bus.request('lookupAccount', { accountId: account.id })).toEqual({ accountId: account.id, plan: 'professional' });
    expect(await km.bus.request('lookupChatbot', { chatbotId: chatbot.id })).toEqual({ chatbotId: chatbot.id, accountId: account.id });
    expect(await km.bus.request('lookupAccount', { accountId: UNKNOWN_ID })).toBeNull();
    expect(await km.bus.request('lookupAccount', { accountId: 'not-a-uuid' })).toBeNull();
    expect(await km.bus.request('lookupChatbot', { chatbotId: UNKNOWN_ID })).toBeNull();
    expect(await km.bus.request('lookupKey', { keyHash: newKey('chatbot').keyHash })).toBeNull();
  });

  it('refuses provisioning that names what does not exist', async () => {
    expect(await outcome(km.bus.request('adminUpdateAccount', { accountId: UNKNOWN_ID, plan: 'free' }))).toBe('account_not_found');
    expect(await outcome(km.bus.request('adminCreateChatbot', chatbotPayload(UNKNOWN_ID)))).toBe('account_not_found');
    expect(await outcome(km.bus.request('adminCreateUser', userPayload(UNKNOWN_ID, 'owner')))).toBe('account_not_found');
    expect(await outcome(km.bus.request('adminSetUserChatbots', { userId: UNKNOWN_ID, chatbotIds: [] }))).toBe('user_not_found');
    expect(await outcome(km.bus.request('adminCreateUserKey', { userId: UNKNOWN_ID, name: 'k', ...newKey('user') }))).toBe(
      'user_not_found',
    );
    expect(await outcome(km.bus.request('adminDeleteChatbot', { chatbotId: UNKNOWN_ID }))).toBe('chatbot_not_found');
  });

  it("assigns only live chatbots of the user's own account", async () => {
    const other = await km.bus.request('adminCreateAccount', accountPayload());
    const foreign = await km.bus.request('adminCreateChatbot', chatbotPayload(other.id));
    const own = await km.bus.request('adminCreateChatbot', chatbotPayload(account.id));

    expect(await outcome(km.bus.request('adminCreateUser', userPayload(account.id, 'member', { chatbotIds: [own.id, foreign.id] })))).toBe(
      'chatbot_not_found',
    );
    const member = await km.bus.request('adminCreateUser', userPayload(account.id, 'member', { chatbotIds: [own.id, own.id] }));
    expect(member).toEqual({
      id: expect.any(String),
      accountId: account.id,
      email: expect.any(String),
      role: 'member',
      chatbotIds: [own.id],
    });
    expect(await outcome(km.bus.request('adminSetUserChatbots', { userId: member.id, chatbotIds: [foreign.id] }))).toBe(
      'chatbot_not_found',
    );

    await km.bus.request('adminDeleteChatbot', { chatbotId: own.id });
    expect(await outcome(km.bus.request('adminSetUserChatbots', { userId: member.id, chatbotIds: [own.id] }))).toBe('chatbot_not_found');
  });

  it('keeps SSO subjects unique', async () => {
    await km.bus.request('adminCreateUser', userPayload(account.id, 'admin', { ssoSubject: 'auth0|same' }));
    expect(await outcome(km.bus.request('adminCreateUser', userPayload(account.id, 'owner', { ssoSubject: 'auth0|same' })))).toBe(
      'conflict',
    );
  });

  it('gives user-level keys to owners and admins only, and imports legacy keys by hash', async () => {
    const member = await km.bus.request('adminCreateUser', userPayload(account.id, 'member'));
    expect(await outcome(km.bus.request('adminCreateUserKey', { userId: member.id, name: 'k', ...newKey('user') }))).toBe('forbidden');
    expect(await outcome(km.bus.request('adminImportLegacyKey', { userId: member.id, ...newKey('user') }))).toBe('forbidden');

    const issued = newKey('user');
    const userKey = await km.bus.request('adminCreateUserKey', { userId: admin.id, name: 'Provisioned', ...issued });
    expect(userKey).toMatchObject({
      type: 'user',
      name: 'Provisioned',
      prefix: issued.prefix,
      chatbotId: null,
      createdBy: admin.id,
      lastUsedAt: null,
    });

    const legacyKey = 'legacy-Key_0123456789abcdef';
    plaintexts.push(legacyKey);
    const imported = await km.bus.request('adminImportLegacyKey', { userId: admin.id, keyHash: hashApiKey(legacyKey), prefix: null });
    expect(imported).toMatchObject({ type: 'user', prefix: null, chatbotId: null, createdBy: admin.id });
    expect(await km.bus.request('lookupKey', { keyHash: hashApiKey(legacyKey) })).toEqual({
      keyId: imported.id,
      type: 'user',
      accountId: account.id,
      chatbotId: null,
      userId: admin.id,
      endsAt: null,
      allowedIps: null,
      rateLimit: null,
    });
    expect(await outcome(km.bus.request('adminImportLegacyKey', { userId: admin.id, keyHash: hashApiKey(legacyKey), prefix: null }))).toBe(
      'conflict',
    );
    expect(await outcome(km.bus.request('adminImportLegacyKey', { userId: admin.id, keyHash: issued.keyHash, prefix: null }))).toBe(
      'conflict',
    );
  });

  it('deletes a chatbot by revoking all its keys, announcing each one', async () => {
    const chatbot = await km.bus.request('adminCreateChatbot', chatbotPayload(account.id));
    const keys = [newKey('chatbot'), newKey('chatbot'), newKey('chatbot')];
    const created = [];
    for (const key of keys)
      created.push(await km.bus.request('createKey', { actor: { userId: admin.id }, chatbotId: chatbot.id, name: 'k', ...key }));
    await km.bus.request('revokeKey', { actor: { userId: admin.id }, chatbotId: chatbot.id, keyId: created[0].id });
    const revokedBefore = km.events.filter((recorded) => recorded.subject === 'keyRevoked').length;

    expect(await km.bus.request('adminDeleteChatbot', { chatbotId: chatbot.id })).toBeNull();

    const revokedNow = km.events.filter((recorded) => recorded.subject === 'keyRevoked').slice(revokedBefore);
    expect(revokedNow.map((recorded) => recorded.event).sort((a, b) => a.keyId.localeCompare(b.keyId))).toEqual(
      created
        .slice(1)
        .map((key, i) => ({ keyId: key.id, keyHash: keys[i + 1].keyHash, accountId: account.id, chatbotId: chatbot.id }))
        .sort((a, b) => a.keyId.localeCompare(b.keyId)),
    );
    expect(km.events.at(-1)).toEqual({ subject: 'chatbotDeleted', event: { chatbotId: chatbot.id, accountId: account.id } });
    for (const key of keys) expect(await km.bus.request('lookupKey', { keyHash: key.keyHash })).toBeNull();
    expect(await km.bus.request('lookupChatbot', { chatbotId: chatbot.id })).toBeNull();
    expect(await outcome(km.bus.request('listKeys', { actor: { userId: admin.id }, chatbotId: chatbot.id }))).toBe('chatbot_not_found');
    expect(await outcome(km.bus.request('adminDeleteChatbot', { chatbotId: chatbot.id }))).toBe('chatbot_not_found');
    // Revoked keys stay, for audit and usage history.
    const stored = await km.dumpDatabase();
    for (const key of keys) expect(stored).toContain(key.keyHash);
  });

  it('stores hashes only, never a key', async () => {
    const stored = await km.dumpDatabase();
    expect(plaintexts.length).toBeGreaterThan(5);
    for (const key of plaintexts) expect(stored).not.toContain(key);
    // Every stored key row is one of the keys above, by its hash.
    const storedKeyRows = stored.split('\n').filter((row) => row.startsWith('api_keys:'));
    expect(storedKeyRows.length).toBeGreaterThan(0);
    expect(plaintexts.filter((key) => stored.includes(hashApiKey(key)))).toHaveLength(storedKeyRows.length);
  });
});
