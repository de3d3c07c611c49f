import { jest, describe, it, expect } from '@jest/globals';
import { classifyApiKey, hashApiKey } from '@app/contracts';
import type { KeyManagementClient } from '../key-management/key-management.client.js';
import { AdminService } from './admin.service.js';

const view = {
  id: 'key-1',
  type: 'user' as const,
  name: 'Untitled key',
  prefix: null,
  chatbotId: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'user-1',
  lastUsedAt: null,
};

function setup() {
  const request = jest.fn(async (_subject: string, _payload: Record<string, unknown>) => view);
  return { sut: new AdminService({ request } as unknown as KeyManagementClient), request };
}

const origin = { requestId: 'req-1', ip: '198.51.100.4' };

describe('AdminService', () => {
  it('imports a plaintext legacy key by its hash and display prefix, never sending the key', async () => {
    const { sut, request } = setup();
    const legacy = 'Legacy-Key_0123456789.abc';

    const imported = await sut.importLegacyKey('user-1', origin, { key: legacy });

    expect(request).toHaveBeenCalledWith('adminImportLegacyKey', {
      userId: 'user-1',
      origin,
      keyHash: hashApiKey(legacy),
      prefix: 'Legacy-Key_0',
    });
    expect(JSON.stringify(request.mock.calls)).not.toContain(legacy);
    expect(imported).not.toHaveProperty('key');
  });

  it('imports a bare sha256 lowercased, without a prefix', async () => {
    const { sut, request } = setup();

    await sut.importLegacyKey('user-1', origin, { sha256: 'AB'.repeat(32) });

    expect(request).toHaveBeenCalledWith('adminImportLegacyKey', { userId: 'user-1', origin, keyHash: 'ab'.repeat(32), prefix: null });
  });

  it('creates a user-level key for a user, sending only hash and prefix', async () => {
    const { sut, request } = setup();

    const created = await sut.createUserKey('user-1', origin, undefined);

    expect(classifyApiKey(created.key)).toBe('user');
    expect(request).toHaveBeenCalledWith('adminCreateUserKey', {
      userId: 'user-1',
      origin,
      name: 'Untitled key',
      keyHash: hashApiKey(created.key),
      prefix: created.key.slice(0, 12),
    });
  });
});
