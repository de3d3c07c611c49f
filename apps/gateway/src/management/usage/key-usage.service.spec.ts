import { jest, describe, it, expect } from '@jest/globals';
import { ApiError, BusUnavailableError, type Logger } from '@app/common';
import type { KeyView } from '@app/contracts';
import type { KeyManagementClient } from '../../key-management/key-management.client.js';
import type { UsageTrackerClient } from '../../usage/usage-tracker.client.js';
import { KeyUsageService } from './key-usage.service.js';

const view = (id: string): KeyView => ({
  id,
  type: 'chatbot',
  name: id,
  prefix: 'cbk_abcdefgh',
  chatbotId: 'bot-1',
  createdAt: '2026-01-01T00:00:00.000Z',
  status: 'active',
  enabled: true,
  expiresAt: null,
  allowedIps: null,
  rolledFrom: null,
  createdBy: 'user-1',
  lastUsedAt: null,
  rateLimit: null,
});

function setup(answer: (subject: string, payload: unknown, timeoutMs?: number) => Promise<unknown>) {
  const request = jest.fn(answer);
  const warn = jest.fn();
  const sut = new KeyUsageService(
    { request } as unknown as KeyManagementClient,
    { request } as unknown as UsageTrackerClient,
    { warn } as unknown as Logger,
  );
  return { sut, request, warn };
}

describe('KeyUsageService', () => {
  it('fills lastUsedAt from the usage-tracker', async () => {
    const { sut, request } = setup(async () => ({ 'key-1': '2026-03-01T10:00:00.000Z', 'key-2': null }));

    const listed = await sut.withLastUsed([view('key-1'), view('key-2')]);

    expect(listed.map((key) => key.lastUsedAt)).toEqual(['2026-03-01T10:00:00.000Z', null]);
    expect(request).toHaveBeenCalledWith('usageLastUsed', { keyIds: ['key-1', 'key-2'] }, 1000);
  });

  it('still lists keys, with a warning, when the usage-tracker does not answer', async () => {
    const { sut, warn } = setup(async () => {
      throw new BusUnavailableError('usage.last-used', new Error('timeout'));
    });

    await expect(sut.withLastUsed([view('key-1')])).resolves.toEqual([view('key-1')]);
    expect(warn).toHaveBeenCalled();
  });

  it('asks key-management whether the actor may see the key before reading its usage', async () => {
    const { sut, request } = setup(async (subject) => {
      if (subject === 'getKey') throw new ApiError('key_not_found', 'no such key');
      return { data: [], total: 0 };
    });

    await expect(sut.series({ userId: 'u' }, 'bot-1', 'key-9', {})).rejects.toMatchObject({ code: 'key_not_found' });
    expect(request.mock.calls.map(([subject]) => subject)).toEqual(['getKey']);
  });

  it('answers the series for a key the actor may see', async () => {
    const series = { data: [{ start: '2026-03-01T10:00:00.000Z', count: 3 }], total: 3 };
    const { sut, request } = setup(async (subject) => (subject === 'getKey' ? view('key-1') : series));

    await expect(sut.series({ userId: 'u' }, null, 'key-1', { interval: 'minute' })).resolves.toEqual(series);
    expect(request).toHaveBeenLastCalledWith('usageQuery', { keyId: 'key-1', interval: 'minute' });
  });
});
