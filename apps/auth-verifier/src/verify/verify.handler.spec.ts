import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Registry } from 'prom-client';
import { ApiError, type NatsBus } from '@app/common';
import type { VerifyReply } from '@app/contracts';
import { VerifyHandler } from './verify.handler.js';
import { VerifyMetrics } from './verify.metrics.js';
import type { VerifyService } from './verify.service.js';

describe('VerifyHandler', () => {
  let registry: Registry;
  let verify: jest.Mock<VerifyService['verify']>;
  let sut: VerifyHandler;

  beforeEach(() => {
    registry = new Registry();
    verify = jest.fn<VerifyService['verify']>();
    sut = new VerifyHandler({} as NatsBus, { verify } as unknown as VerifyService, new VerifyMetrics(registry));
  });

  async function count(outcome: string): Promise<number> {
    const metric = await registry.getSingleMetric('auth_verifier_verifications_total')!.get();
    return metric.values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
  }

  it('counts each answer by outcome and times it', async () => {
    const denied: VerifyReply = {
      valid: true,
      allowed: false,
      code: 'plan_not_eligible',
      keyId: 'k',
      type: 'chatbot',
      accountId: 'a',
      chatbotId: 'b',
      userId: null,
      rateLimit: null,
    };
    verify.mockResolvedValueOnce(denied).mockResolvedValueOnce({ valid: false, code: 'invalid_api_key' });

    await expect(sut.verify({ key: 'k1' })).resolves.toBe(denied);
    await sut.verify({ key: 'k2' });

    expect(await count('plan_not_eligible')).toBe(1);
    expect(await count('invalid_api_key')).toBe(1);
    const text = await registry.metrics();
    expect(text).toMatch(/auth_verifier_verify_duration_seconds_count\{outcome="plan_not_eligible"\} 1/);
  });

  it('lets a verify that cannot decide fail, counted as auth_unavailable', async () => {
    verify.mockRejectedValue(new ApiError('auth_unavailable', 'down'));

    await expect(sut.verify({ key: 'k1' })).rejects.toBeInstanceOf(ApiError);
    expect(await count('auth_unavailable')).toBe(1);
  });
});
