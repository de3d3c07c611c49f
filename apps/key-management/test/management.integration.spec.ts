import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AccountView, Actor, ChatbotView, UserView } from '@app/contracts';
import { accountPayload, chatbotPayload, keyMaterial, userPayload } from '@app/testing';
import { outcome, startKeyManagementUnderTest, type KeyManagementUnderTest } from './key-management.harness.js';

describe('key-management over the bus: admin provisioning, then the management API', () => {
  let km: KeyManagementUnderTest;
  let account: AccountView;
  let support: ChatbotView;
  let sales: ChatbotView;
  let owner: UserView;
  let member: UserView;
  let foreignChatbot: ChatbotView;
  let ownerActor: Actor;
  let memberActor: Actor;

  beforeAll(async () => {
    km = await startKeyManagementUnderTest();
    account = await km.bus.request('adminCreateAccount', accountPayload({ plan: 'standard' }));
    support = await km.bus.request('adminCreateChatbot', chatbotPayload(account.id, { name: 'Support' }));
    sales = await km.bus.request('adminCreateChatbot', chatbotPayload(account.id, { name: 'Sales' }));
    owner = await km.bus.request('adminCreateUser', userPayload(account.id, 'owner'));
    member = await km.bus.request(
      'adminCreateUser',
      userPayload(account.id, 'member', { ssoSubject: 'okta|member-1', chatbotIds: [support.id] }),
    );
    const otherAccount = await km.bus.request('adminCreateAccount', accountPayload());
    foreignChatbot = await km.bus.request('adminCreateChatbot', chatbotPayload(otherAccount.id));
    ownerActor = { userId: owner.id };
    memberActor = { ssoSubject: 'okta|member-1' };
  });

  afterAll(() => km?.stop());

  it('lists the chatbots each caller reaches, page by page', async () => {
    const first = await km.bus.request('listChatbots', { actor: ownerActor, limit: 1 });
    expect(first.data).toHaveLength(1);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await km.bus.request('listChatbots', { actor: ownerActor, limit: 1, cursor: first.nextCursor! });
    expect(second.nextCursor).toBeNull();
    expect([...first.data, ...second.data].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { id: sales.id, name: 'Sales' },
      { id: support.id, name: 'Support' },
    ]);
    expect(await km.bus.request('listChatbots', { actor: ownerActor, limit: 1 })).toEqual(first);

    expect(await km.bus.request('listChatbots', { actor: memberActor, limit: 50 })).toEqual({
      data: [{ id: support.id, name: 'Support' }],
      nextCursor: null,
    });
    expect(await outcome(km.bus.request('listChatbots', { actor: ownerActor, limit: 5, cursor: 'bm90LWEtY3Vyc29y' }))).toBe(
      'invalid_request',
    );
  });

  it('creates, lists, renames and revokes a chatbot key, announcing each change', async () => {
    const material = keyMaterial('chatbot');
    const created = await km.bus.request('createKey', {
      actor: memberActor,
      chatbotId: support.id,
      name: 'Zapier',
      keyHash: material.keyHash,
      prefix: material.prefix,
    });
    expect(created).toEqual({
      id: expect.any(String),
      type: 'chatbot',
      name: 'Zapier',
      prefix: material.prefix,
      chatbotId: support.id,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      createdBy: member.id,
      lastUsedAt: null,
      status: 'active',
      enabled: true,
      expiresAt: null,
      allowedIps: null,
      rolledFrom: null,
      rateLimit: null,
    });
    expect(km.events).toContainEqual({
      subject: 'keyCreated',
      event: { keyId: created.id, keyHash: material.keyHash, accountId: account.id },
    });
    expect(await km.bus.request('lookupKey', { keyHash: material.keyHash })).toEqual({
      keyId: created.id,
      type: 'chatbot',
      accountId: account.id,
      chatbotId: support.id,
      userId: null,
      endsAt: null,
      allowedIps: null,
      rateLimit: null,
    });

    const newer = await km.bus.request('createKey', { actor: ownerActor, chatbotId: support.id, name: 'CRM', ...hashOnly() });
    const listed = await km.bus.request('listKeys', { actor: memberActor, chatbotId: support.id });
    expect(listed.data.map((key) => key.id)).toEqual([newer.id, created.id]);

    const renamed = await km.bus.request('updateKey', { actor: ownerActor, chatbotId: support.id, keyId: created.id, name: 'Make' });
    expect(renamed).toEqual({ ...created, name: 'Make' });
    expect(km.events).toContainEqual({ subject: 'keyRenamed', event: { keyId: created.id, accountId: account.id } });
    expect(await km.bus.request('getKey', { actor: memberActor, chatbotId: support.id, keyId: created.id })).toEqual(renamed);
    expect(await km.bus.request('lookupKey', { keyHash: material.keyHash })).not.toBeNull();

    // A rate limit is stored, answered to the verifier's lookup and announced; null clears it.
    const rateLimit = { requests: 100, windowSeconds: 60 };
    const limited = await km.bus.request('updateKey', { actor: ownerActor, chatbotId: support.id, keyId: created.id, rateLimit });
    expect(limited).toEqual({ ...renamed, rateLimit });
    expect(km.events).toContainEqual({
      subject: 'keyUpdated',
      event: { keyId: created.id, keyHash: material.keyHash, accountId: account.id, chatbotId: support.id },
    });
    expect(await km.bus.request('lookupKey', { keyHash: material.keyHash })).toMatchObject({ rateLimit });
    const unlimited = await km.bus.request('updateKey', { actor: ownerActor, chatbotId: support.id, keyId: created.id, rateLimit: null });
    expect(unlimited).toEqual(renamed);

    expect(await km.bus.request('revokeKey', { actor: memberActor, chatbotId: support.id, keyId: created.id })).toBeNull();
    // The event travels on the same connection ahead of the reply: it is here the moment the reply is.
    expect(km.events).toContainEqual({
      subject: 'keyRevoked',
      event: { keyId: created.id, keyHash: material.keyHash, accountId: account.id, chatbotId: support.id },
    });
    expect(await km.bus.request('lookupKey', { keyHash: material.keyHash })).toBeNull();
    expect(await outcome(km.bus.request('revokeKey', { actor: memberActor, chatbotId: support.id, keyId: created.id }))).toBe(
      'key_not_found',
    );
    expect(await outcome(km.bus.request('getKey', { actor: ownerActor, chatbotId: support.id, keyId: created.id }))).toBe('key_not_found');
    expect((await km.bus.request('listKeys', { actor: ownerActor, chatbotId: support.id })).data.map((key) => key.id)).toEqual([newer.id]);
  });

  it('answers chatbot_not_found for every chatbot out of reach, and key_not_found for a key of another chatbot', async () => {
    const request = (actor: Actor, chatbotId: string) =>
      outcome(km.bus.request('createKey', { actor, chatbotId, name: 'x', ...hashOnly() }));
    expect(await request(memberActor, sales.id)).toBe('chatbot_not_found');
    expect(await request(ownerActor, foreignChatbot.id)).toBe('chatbot_not_found');
    expect(await request(ownerActor, '00000000-0000-4000-8000-000000000000')).toBe('chatbot_not_found');
    expect(await request(ownerActor, 'not-a-uuid')).toBe('chatbot_not_found');
    expect(await outcome(km.bus.request('listKeys', { actor: memberActor, chatbotId: sales.id }))).toBe('chatbot_not_found');

    const onSales = await km.bus.request('createKey', { actor: ownerActor, chatbotId: sales.id, name: 'Sales key', ...hashOnly() });
    expect(await outcome(km.bus.request('getKey', { actor: ownerActor, chatbotId: support.id, keyId: onSales.id }))).toBe('key_not_found');
    expect(await outcome(km.bus.request('revokeKey', { actor: ownerActor, chatbotId: support.id, keyId: onSales.id }))).toBe(
      'key_not_found',
    );
  });

  it('manages user-level keys for owners and admins only', async () => {
    const material = keyMaterial('user');
    const userKey = await km.bus.request('createKey', {
      actor: ownerActor,
      chatbotId: null,
      name: 'Automation',
      keyHash: material.keyHash,
      prefix: material.prefix,
    });
    expect(userKey).toMatchObject({ type: 'user', chatbotId: null, createdBy: owner.id });
    expect(await km.bus.request('lookupKey', { keyHash: material.keyHash })).toEqual({
      keyId: userKey.id,
      type: 'user',
      accountId: account.id,
      chatbotId: null,
      userId: owner.id,
      endsAt: null,
      allowedIps: null,
      rateLimit: null,
    });
    expect((await km.bus.request('listKeys', { actor: ownerActor, chatbotId: null })).data.map((key) => key.id)).toEqual([userKey.id]);
    // A chatbot key is not a user-level key, even of the same account.
    const chatbotKey = (await km.bus.request('listKeys', { actor: ownerActor, chatbotId: support.id })).data[0];
    expect(await outcome(km.bus.request('getKey', { actor: ownerActor, chatbotId: null, keyId: chatbotKey.id }))).toBe('key_not_found');

    for (const call of [
      km.bus.request('createKey', { actor: memberActor, chatbotId: null, name: 'Mine', ...hashOnly() }),
      km.bus.request('listKeys', { actor: memberActor, chatbotId: null }),
      km.bus.request('revokeKey', { actor: memberActor, chatbotId: null, keyId: userKey.id }),
    ]) {
      expect(await outcome(call)).toBe('forbidden');
    }

    expect(await km.bus.request('revokeKey', { actor: { userId: owner.id }, chatbotId: null, keyId: userKey.id })).toBeNull();
    expect(await outcome(km.bus.request('revokeKey', { actor: ownerActor, chatbotId: null, keyId: userKey.id }))).toBe('key_not_found');
  });

  it('resolves the caller on every call', async () => {
    expect(await outcome(km.bus.request('listChatbots', { actor: { userId: '00000000-0000-4000-8000-000000000000' }, limit: 5 }))).toBe(
      'invalid_api_key',
    );
    expect(await outcome(km.bus.request('listChatbots', { actor: { ssoSubject: 'okta|nobody' }, limit: 5 }))).toBe('invalid_token');

    await km.bus.request('adminSetUserChatbots', { userId: member.id, chatbotIds: [sales.id] });
    expect((await km.bus.request('listChatbots', { actor: memberActor, limit: 5 })).data.map((chatbot) => chatbot.id)).toEqual([sales.id]);
    expect(await outcome(km.bus.request('listKeys', { actor: memberActor, chatbotId: support.id }))).toBe('chatbot_not_found');
    expect(km.events).toContainEqual({
      subject: 'assignmentsChanged',
      event: { userId: member.id, accountId: account.id, chatbotIds: [sales.id] },
    });
  });

  it('refuses chatbot keys on the free plan and announces plan changes', async () => {
    expect(await km.bus.request('adminUpdateAccount', { accountId: account.id, plan: 'free' })).toEqual({ ...account, plan: 'free' });
    expect(km.events).toContainEqual({ subject: 'planChanged', event: { accountId: account.id, plan: 'free' } });
    expect(await outcome(km.bus.request('createKey', { actor: ownerActor, chatbotId: support.id, name: 'x', ...hashOnly() }))).toBe(
      'plan_not_eligible',
    );
    // User-level keys are not chatbot keys: the plan does not gate them.
    expect(await outcome(km.bus.request('createKey', { actor: ownerActor, chatbotId: null, name: 'x', ...hashOnly() }))).toBe('ok');

    await km.bus.request('adminUpdateAccount', { accountId: account.id, plan: 'professional' });
    expect(await outcome(km.bus.request('createKey', { actor: ownerActor, chatbotId: support.id, name: 'x', ...hashOnly() }))).toBe('ok');
  });
});

function hashOnly() {
  const { keyHash, prefix } = keyMaterial('chatbot');
  return { keyHash, prefix };
}
