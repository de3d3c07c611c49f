import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AccountView, ChatbotView, UserView } from '@app/contracts';
import { accountPayload, chatbotPayload, keyMaterial, userPayload } from '@app/testing';
import { outcome, startKeyManagementUnderTest, type KeyManagementUnderTest } from './key-management.harness.js';

describe('key-management: at most 10 active keys per chatbot', () => {
  let km: KeyManagementUnderTest;
  let account: AccountView;
  let chatbot: ChatbotView;
  let admin: UserView;

  beforeAll(async () => {
    km = await startKeyManagementUnderTest();
    account = await km.bus.request('adminCreateAccount', accountPayload({ plan: 'entry' }));
    chatbot = await km.bus.request('adminCreateChatbot', chatbotPayload(account.id));
    admin = await km.bus.request('adminCreateUser', userPayload(account.id, 'admin'));
  });

  afterAll(() => km?.stop());

  const createKey = (chatbotId: string) =>
    km.bus.request('createKey', { actor: { userId: admin.id }, chatbotId, name: 'Parallel', ...withoutPlaintext() }, 10_000);

  it('lets exactly 10 of 20 parallel creates through; the rest get key_limit_reached', async () => {
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => outcome(createKey(chatbot.id))));

    expect(outcomes.filter((result) => result === 'ok')).toHaveLength(10);
    expect(outcomes.filter((result) => result === 'key_limit_reached')).toHaveLength(10);
    const listed = await km.bus.request('listKeys', { actor: { userId: admin.id }, chatbotId: chatbot.id });
    expect(listed.data).toHaveLength(10);
  });

  it('counts active keys only: a revoked key frees a place, and only one', async () => {
    const [oldest] = (await km.bus.request('listKeys', { actor: { userId: admin.id }, chatbotId: chatbot.id })).data.slice(-1);
    await km.bus.request('revokeKey', { actor: { userId: admin.id }, chatbotId: chatbot.id, keyId: oldest.id });

    const outcomes = await Promise.all(Array.from({ length: 5 }, () => outcome(createKey(chatbot.id))));

    expect(outcomes.sort()).toEqual(['key_limit_reached', 'key_limit_reached', 'key_limit_reached', 'key_limit_reached', 'ok']);
  });

  it('keeps the limit per chatbot: another chatbot of the account starts empty', async () => {
    const other = await km.bus.request('adminCreateChatbot', chatbotPayload(account.id));
    expect(await outcome(createKey(other.id))).toBe('ok');
  });
});

function withoutPlaintext() {
  const { keyHash, prefix } = keyMaterial('chatbot');
  return { keyHash, prefix };
}
