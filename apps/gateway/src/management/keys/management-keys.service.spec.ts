import { jest, describe, it, expect } from '@jest/globals';
import { ApiError } from '@app/common';
import { classifyApiKey, hashApiKey, type KeyView } from '@app/contracts';
import type { KeyManagementClient } from '../../key-management/key-management.client.js';
import type { KeyUsageService } from '../usage/key-usage.service.js';
import { ManagementKeysService } from './management-keys.service.js';

const actor = { userId: 'user-1' };

function keyView(overrides: Partial<KeyView> = {}): KeyView {
  return {
    id: 'key-1',
    type: 'chatbot',
    name: 'Zapier',
    prefix: 'cbk_abcdefgh',
    chatbotId: 'bot-1',
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'user-1',
    lastUsedAt: null,
    status: 'active',
    enabled: true,
    expiresAt: null,
    allowedIps: null,
    rolledFrom: null,
    rateLimit: null,
    ...overrides,
  };
}

/** Usage as the tracker would fill it: every key last used at one fixed time. */
const usage = {
  withLastUsed: async (views: KeyView[]) => views.map((view) => ({ ...view, lastUsedAt: '2026-02-01T00:00:00.000Z' })),
} as unknown as KeyUsageService;

function setup(reply: unknown) {
  const request = jest.fn(async (_subject: string, _payload: Record<string, unknown>) => reply);
  const sut = new ManagementKeysService({ request } as unknown as KeyManagementClient, usage);
  return { sut, request };
}

const origin = { requestId: 'req-1', ip: '198.51.100.4' };

describe('ManagementKeysService', () => {
  it('makes a chatbot key, sends only its hash and prefix, and answers the plaintext once', async () => {
    const { sut, request } = setup(keyView());

    const created = await sut.create(actor, origin, 'bot-1', { name: 'Zapier' });

    expect(classifyApiKey(created.key)).toBe('chatbot');
    const [subject, payload] = request.mock.calls[0];
    expect(subject).toBe('createKey');
    expect(payload).toEqual({
      actor,
      origin,
      chatbotId: 'bot-1',
      name: 'Zapier',
      keyHash: hashApiKey(created.key),
      prefix: created.key.slice(0, 12),
    });
    expect(JSON.stringify(payload)).not.toContain(created.key);
    expect(created).toEqual({ ...keyView(), key: created.key });
  });

  it('makes a user-level key for the account when no chatbot is named, with the default name', async () => {
    const { sut, request } = setup(keyView({ type: 'user', chatbotId: null }));

    const created = await sut.create(actor, origin, null, undefined);

    expect(classifyApiKey(created.key)).toBe('user');
    expect(request.mock.calls[0][1]).toMatchObject({ chatbotId: null, name: 'Untitled key' });
  });

  it('makes a different key every time', async () => {
    const { sut } = setup(keyView());
    const first = await sut.create(actor, origin, 'bot-1', undefined);
    const second = await sut.create(actor, origin, 'bot-1', undefined);
    expect(first.key).not.toBe(second.key);
  });

  it('passes key-management refusals through unchanged', async () => {
    const request = jest.fn(async () => {
      throw new ApiError('key_limit_reached', 'this chatbot already has 10 active keys');
    });
    const sut = new ManagementKeysService({ request } as unknown as KeyManagementClient, usage);

    await expect(sut.create(actor, origin, 'bot-1', undefined)).rejects.toMatchObject({ code: 'key_limit_reached' });
  });

  it('lists, changes and revokes on behalf of the actor, within the chatbot or the account', async () => {
    const replies: Record<string, unknown> = { listKeys: { data: [keyView()] }, updateKey: keyView({ id: 'key-2' }), revokeKey: null };
    const request = jest.fn(async (subject: string, _payload: Record<string, unknown>) => replies[subject]);
    const sut = new ManagementKeysService({ request } as unknown as KeyManagementClient, usage);

    const listed = await sut.list(actor, 'bot-1');
    const renamed = await sut.update(actor, origin, null, 'key-2', { name: 'CI', rateLimit: { requests: 5, windowSeconds: 1 } });
    await sut.revoke(actor, origin, 'bot-1', 'key-1');

    expect(listed.data[0].lastUsedAt).toBe('2026-02-01T00:00:00.000Z');
    expect(renamed.lastUsedAt).toBe('2026-02-01T00:00:00.000Z');
    expect(request.mock.calls).toEqual([
      ['listKeys', { actor, chatbotId: 'bot-1' }],
      ['updateKey', { actor, origin, chatbotId: null, keyId: 'key-2', name: 'CI', rateLimit: { requests: 5, windowSeconds: 1 } }],
      ['revokeKey', { actor, origin, chatbotId: 'bot-1', keyId: 'key-1' }],
    ]);
  });
});
