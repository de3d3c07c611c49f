import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AccountView, ChatbotView, UserView } from '@app/contracts';
import { accountPayload, chatbotPayload, keyMaterial, userPayload, eventually } from '@app/testing';
import { outcome, startKeyManagementUnderTest, type KeyManagementUnderTest } from './key-management.harness.js';

/** Expiry, enabled, rolls and allow-lists against a real database, over the bus. */
describe('key-management: key lifecycle', () => {
  let km: KeyManagementUnderTest;
  let account: AccountView;
  let admin: UserView;

  beforeAll(async () => {
    km = await startKeyManagementUnderTest();
    account = await km.bus.request('adminCreateAccount', accountPayload({ plan: 'standard' }));
    admin = await km.bus.request('adminCreateUser', userPayload(account.id, 'admin'));
  });

  afterAll(() => km?.stop());

  const actor = () => ({ userId: admin.id });
  const newChatbot = () => km.bus.request('adminCreateChatbot', chatbotPayload(account.id));
  async function createKey(chatbot: ChatbotView, extra: { expiresAt?: string; allowedIps?: string[] } = {}) {
    const material = keyMaterial('chatbot');
    const view = await km.bus.request('createKey', {
      actor: actor(),
      chatbotId: chatbot.id,
      name: 'Lifecycle',
      keyHash: material.keyHash,
      prefix: material.prefix,
      ...extra,
    });
    return { view, keyHash: material.keyHash };
  }
  const lookup = (keyHash: string) => km.bus.request('lookupKey', { keyHash });
  const roll = (chatbot: ChatbotView, keyId: string, gracePeriodSeconds: number) => {
    const { keyHash, prefix } = keyMaterial('chatbot');
    return km.bus.request('rollKey', { actor: actor(), chatbotId: chatbot.id, keyId, gracePeriodSeconds, keyHash, prefix }, 10_000);
  };

  it('answers a disabled key like a revoked one, and a re-enabled one as before, announcing each change', async () => {
    const chatbot = await newChatbot();
    const { view, keyHash } = await createKey(chatbot, { allowedIps: ['10.1.2.3/8', '2001:DB8::1'] });
    expect(view.allowedIps).toEqual(['10.0.0.0/8', '2001:db8::1']);
    expect(await lookup(keyHash)).toMatchObject({ keyId: view.id, endsAt: null, allowedIps: ['10.0.0.0/8', '2001:db8::1'] });

    const disabled = await km.bus.request('updateKey', { actor: actor(), chatbotId: chatbot.id, keyId: view.id, enabled: false });
    expect(disabled).toMatchObject({ enabled: false, status: 'disabled' });
    expect(await lookup(keyHash)).toBeNull();
    const updated = { subject: 'keyUpdated', event: { keyId: view.id, keyHash, accountId: account.id, chatbotId: chatbot.id } };
    await eventually(
      async () => km.events.filter((recorded) => JSON.stringify(recorded) === JSON.stringify(updated)).length === 1,
      Boolean,
      { timeoutMs: 2_000, what: 'the keyUpdated event' },
    );

    await km.bus.request('updateKey', { actor: actor(), chatbotId: chatbot.id, keyId: view.id, enabled: true, allowedIps: null });
    expect(await lookup(keyHash)).toMatchObject({ keyId: view.id, allowedIps: null });
  });

  it('stops answering for a key from the instant it expires, and lists it as expired; it still counts toward the 10', async () => {
    const chatbot = await newChatbot();
    const expiresAt = new Date(Date.now() + 1_500);
    const { view, keyHash } = await createKey(chatbot, { expiresAt: expiresAt.toISOString() });
    expect(await lookup(keyHash)).toMatchObject({ endsAt: expiresAt.getTime() });
    await eventually(async () => (await lookup(keyHash)) === null, Boolean, { timeoutMs: 3_000, what: 'the key to expire' });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.getTime());
    const listed = await km.bus.request('listKeys', { actor: actor(), chatbotId: chatbot.id });
    expect(listed.data).toEqual([expect.objectContaining({ id: view.id, status: 'expired' })]);

    for (let i = 0; i < 9; i++) await createKey(chatbot);
    expect(await outcome(createKey(chatbot))).toBe('key_limit_reached');
    expect(
      await outcome(
        km.bus.request('updateKey', {
          actor: actor(),
          chatbotId: chatbot.id,
          keyId: view.id,
          expiresAt: new Date(Date.now() - 1).toISOString(),
        }),
      ),
    ).toBe('invalid_request');
  });

  it('rolls past the limit in parallel, serialises rolls of one key, and frees the places when the grace periods end', async () => {
    const chatbot = await newChatbot();
    const keys: Awaited<ReturnType<typeof createKey>>[] = [];
    for (let i = 0; i < 10; i++) keys.push(await createKey(chatbot));

    const rolls = await Promise.all(keys.slice(0, 5).map(({ view }) => outcome(roll(chatbot, view.id, 2))));
    expect(rolls).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    // Two rolls of one key at once: the row lock lets one through; the other finds it rolled.
    expect((await Promise.all([outcome(roll(chatbot, keys[5].view.id, 2)), outcome(roll(chatbot, keys[5].view.id, 2))])).sort()).toEqual([
      'conflict',
      'ok',
    ]);
    expect(await outcome(createKey(chatbot))).toBe('key_limit_reached');
    const during = await km.bus.request('listKeys', { actor: actor(), chatbotId: chatbot.id });
    expect(during.data).toHaveLength(16);
    const graceEnd = await lookup(keys[0].keyHash);
    expect(graceEnd?.endsAt).toBeGreaterThan(Date.now());

    await eventually(async () => (await lookup(keys[0].keyHash)) === null, Boolean, { timeoutMs: 4_000, what: 'the grace period to end' });
    await eventually(
      async () => (await km.bus.request('listKeys', { actor: actor(), chatbotId: chatbot.id })).data.length === 10,
      Boolean,
      { timeoutMs: 2_000, what: '10 listed keys' },
    );
    expect(await outcome(createKey(chatbot))).toBe('key_limit_reached');
    expect(await outcome(roll(chatbot, keys[0].view.id, 0))).toBe('key_not_found');
  });

  it('revokes a key in its grace period with its chatbot', async () => {
    const chatbot = await newChatbot();
    const { view, keyHash } = await createKey(chatbot);
    await roll(chatbot, view.id, 600);
    expect(await lookup(keyHash)).not.toBeNull();
    await km.bus.request('adminDeleteChatbot', { chatbotId: chatbot.id });
    expect(await lookup(keyHash)).toBeNull();
  });
});
