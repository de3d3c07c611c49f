import { describe, expect, it, jest } from '@jest/globals';
import type { Logger } from '@app/common';
import { UsagePublisher, DEFAULT_USAGE_PUBLISHER_OPTIONS, type UsagePublisherOptions } from './usage-publisher.js';
import { usesUndelivered, usesPublished } from './usage-metrics.js';

type PublishCall = { subject: string; payload: string; msgID: string };

function setup(options: Partial<UsagePublisherOptions> = {}) {
  const calls: PublishCall[] = [];
  const outcomes: Array<'ok' | 'fail' | 'hang'> = [];
  const publish = jest.fn((subject: string, payload?: unknown, opts?: { msgID?: string }) => {
    calls.push({ subject, payload: String(payload), msgID: opts?.msgID ?? '' });
    const outcome = outcomes.shift() ?? 'ok';
    if (outcome === 'fail') return Promise.reject(new Error('no responders'));
    if (outcome === 'hang') return new Promise(() => undefined);
    return Promise.resolve({ stream: 'S', seq: calls.length, duplicate: false });
  });
  const connection = { up: true };
  const logger = { error: jest.fn(), warn: jest.fn(), info: jest.fn(), debug: jest.fn() } as unknown as Logger;
  const sut = new UsagePublisher(
    { jetStream: { publish } as never, subject: 'p.key.used', isConnected: () => connection.up, logger },
    { ...DEFAULT_USAGE_PUBLISHER_OPTIONS, retryDelayMs: 0, shutdownTimeoutMs: 200, ...options },
  );
  return { sut, calls, outcomes, connection, logger };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const metricValue = async (metric: typeof usesUndelivered, reason?: string) =>
  (await metric.get()).values.find((value) => reason === undefined || value.labels.reason === reason)?.value ?? 0;

const use = (keyId: string) => ({ keyId, accountId: 'acc', chatbotId: 'bot' });
const t0 = Date.parse('2026-03-01T10:15:00.000Z');

describe('UsagePublisher', () => {
  it('coalesces uses of a key within a minute into one message with a count', async () => {
    const { sut, calls } = setup();
    for (let i = 0; i < 5; i++) sut.recordUse(use('k1'), t0 + i * 1000);
    sut.recordUse(use('k1'), t0 + 60_000);
    sut.recordUse({ keyId: 'k2', accountId: 'acc', chatbotId: null }, t0);

    sut.flush();
    await settle();

    const events = calls.map((call) => JSON.parse(call.payload));
    expect(calls.every((call) => call.subject === 'p.key.used')).toBe(true);
    expect(events).toEqual([
      { keyId: 'k1', accountId: 'acc', chatbotId: 'bot', at: new Date(t0 + 4000).toISOString(), count: 5 },
      { keyId: 'k1', accountId: 'acc', chatbotId: 'bot', at: new Date(t0 + 60_000).toISOString() },
      { keyId: 'k2', accountId: 'acc', chatbotId: null, at: new Date(t0).toISOString() },
    ]);
    expect(new Set(calls.map((call) => call.msgID)).size).toBe(3);
    expect(sut.pendingUses).toBe(0);
  });

  it('returns at once while a publish is still waiting for its ack', () => {
    const { sut, outcomes } = setup();
    outcomes.push('hang');
    sut.recordUse(use('k1'), t0);
    sut.flush();
    sut.recordUse(use('k1'), t0);
    expect(sut.pendingUses).toBe(2);
  });

  it('retries a failed publish with the same message id', async () => {
    const { sut, calls, outcomes } = setup();
    const publishedBefore = await metricValue(usesPublished);
    outcomes.push('fail');
    sut.recordUse(use('k1'), t0);
    sut.recordUse(use('k1'), t0);
    sut.flush();
    await settle();
    expect(sut.pendingUses).toBe(2);

    sut.flush();
    await settle();

    expect(calls).toHaveLength(2);
    expect(calls[1].msgID).toBe(calls[0].msgID);
    expect(calls[1].payload).toBe(calls[0].payload);
    expect(sut.pendingUses).toBe(0);
    expect((await metricValue(usesPublished)) - publishedBefore).toBe(2);
  });

  it('holds uses while NATS is down and counts what exceeds the bound, never silently', async () => {
    const { sut, calls, connection, logger } = setup({ maxPendingMessages: 2 });
    const before = await metricValue(usesUndelivered, 'queue_full');
    connection.up = false;

    sut.recordUse(use('k1'), t0);
    sut.recordUse(use('k2'), t0);
    sut.flush();
    sut.recordUse(use('k3'), t0);
    sut.recordUse(use('k4'), t0);
    await settle();

    expect(calls).toHaveLength(0);
    expect(sut.pendingMessageCount()).toBe(2);
    expect((await metricValue(usesUndelivered, 'queue_full')) - before).toBe(2);
    expect(logger.error).toHaveBeenCalled();

    connection.up = true;
    sut.flush();
    await settle();
    expect(calls.map((call) => JSON.parse(call.payload).keyId)).toEqual(['k1', 'k2']);
    expect(sut.pendingMessageCount()).toBe(0);
  });

  it('keeps coalescing instead of sealing more messages while a backlog waits for acks', async () => {
    const { sut, calls, outcomes } = setup({ maxInFlight: 1 });
    outcomes.push('hang');
    sut.recordUse(use('k1'), t0);
    sut.flush();
    sut.recordUse(use('k2'), t0);
    sut.flush();
    for (let i = 0; i < 10; i++) {
      sut.recordUse(use('k3'), t0 + i);
      sut.flush();
    }
    await settle();

    expect(calls).toHaveLength(1);
    expect(sut.pendingMessageCount()).toBe(3);
    expect(sut.pendingUses).toBe(12);
  });

  it('still counts further uses of a key already held when the bound is reached', () => {
    const { sut, connection } = setup({ maxPendingMessages: 1 });
    connection.up = false;
    sut.recordUse(use('k1'), t0);
    sut.recordUse(use('k1'), t0 + 1);
    sut.recordUse(use('k2'), t0);
    expect(sut.pendingUses).toBe(2);
  });

  it('publishes what is pending on stop, and counts what it could not deliver', async () => {
    const { sut, calls, connection } = setup();
    sut.recordUse(use('k1'), t0);
    await sut.stop();
    expect(calls).toHaveLength(1);

    const down = setup();
    const before = await metricValue(usesUndelivered, 'shutdown');
    down.connection.up = false;
    down.sut.recordUse(use('k1'), t0);
    down.sut.recordUse(use('k1'), t0);
    await down.sut.stop();
    expect((await metricValue(usesUndelivered, 'shutdown')) - before).toBe(2);
    expect(connection.up).toBe(true);
  });
});
