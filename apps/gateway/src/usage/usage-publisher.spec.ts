import { describe, expect, it, jest } from '@jest/globals';
import type { Logger } from '@app/common';
import { KeyUsedBatchEntryWithChatbotSchema, type KeyUsedBatchEntryWithChatbot } from '@app/contracts';
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
    { jetStream: { publish } as never, subject: 'p.key.used.batch', isConnected: () => connection.up, logger },
    { ...DEFAULT_USAGE_PUBLISHER_OPTIONS, retryDelayMs: 0, shutdownTimeoutMs: 200, ...options },
  );
  return { sut, calls, outcomes, connection, logger };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const metricValue = async (metric: typeof usesUndelivered, reason?: string) =>
  (await metric.get()).values.find((value) => reason === undefined || value.labels.reason === reason)?.value ?? 0;

/** The entries of one published batch. */
const entries = (call: PublishCall) => (JSON.parse(call.payload) as { uses: KeyUsedBatchEntryWithChatbot[] }).uses;
const keysOf = (call: PublishCall) => entries(call).map(([keyId]) => keyId);
const t0 = Date.parse('2026-03-01T10:15:00.000Z');

describe('UsagePublisher', () => {
  it('counts uses per key and minute, and publishes every count of a flush in one batch message', async () => {
    const { sut, calls } = setup();
    for (let i = 0; i < 5; i++) sut.recordUse('k1', t0 + i * 1000);
    sut.recordUse('k1', t0 + 60_000);
    sut.recordUse('k2', t0);

    sut.flush();
    await settle();

    expect(calls).toHaveLength(1);
    expect(calls[0].subject).toBe('p.key.used.batch');
    // [keyId, chatbot (null: usage is kept per key), latest use (epoch ms), uses, refusals], in no particular order
    expect(Object.keys(JSON.parse(calls[0].payload) as object)).toEqual(['uses']);
    expect(entries(calls[0])).toHaveLength(3);
    expect(entries(calls[0])).toEqual(
      expect.arrayContaining([
        ['k1', null, t0 + 4000, 5, 0],
        ['k1', null, t0 + 60_000, 1, 0],
        ['k2', null, t0, 1, 0],
      ]),
    );
    expect(entries(calls[0]).every((entry) => KeyUsedBatchEntryWithChatbotSchema.safeParse(entry).success)).toBe(true);
    expect(calls[0].msgID).not.toBe('');
    expect(sut.pendingUses).toBe(0);

    sut.recordUse('k1', t0 + 61_000);
    sut.flush();
    await settle();
    expect(calls).toHaveLength(2);
    expect(calls[1].msgID).not.toBe(calls[0].msgID);
  });

  it('reports refusals beside uses; a refusal moves the time only of an entry without uses', async () => {
    const { sut, calls } = setup();
    sut.recordUse('k1', t0 + 1000);
    sut.recordRefusal('k1', t0 + 5000);
    sut.recordRefusal('k2', t0 + 2000);
    sut.recordRefusal('k2', t0 + 3000);
    sut.flush();
    await settle();
    expect(entries(calls[0])).toEqual([
      ['k1', null, t0 + 1000, 1, 1],
      ['k2', null, t0 + 3000, 0, 2],
    ]);
    expect(entries(calls[0]).every((entry) => KeyUsedBatchEntryWithChatbotSchema.safeParse(entry).success)).toBe(true);
  });

  it('publishes as many messages as flushes need, not one per key: 100,000 keys in 100 batches', async () => {
    const { sut, calls } = setup();
    for (let i = 0; i < 100_000; i++) sut.recordUse(`key-${i}`, t0);
    sut.flush();
    await settle();

    expect(calls).toHaveLength(100);
    expect(calls.reduce((sum, call) => sum + entries(call).length, 0)).toBe(100_000);
    expect(new Set(calls.flatMap(keysOf)).size).toBe(100_000);
    expect(new Set(calls.map((call) => call.msgID)).size).toBe(100);
  });

  it('splits a flush at the entry bound and at the byte bound, and keeps every count', async () => {
    const byEntries = setup({ maxBatchEntries: 3 });
    for (let i = 0; i < 7; i++) byEntries.sut.recordUse(`k${i}`, t0);
    byEntries.sut.flush();
    await settle();
    expect(byEntries.calls.map((call) => entries(call).length)).toEqual([3, 3, 1]);

    const byBytes = setup({ maxBatchBytes: 400 });
    // Multi-byte ids: the bound is in bytes on the wire, not string length.
    for (let i = 0; i < 20; i++) byBytes.sut.recordUse(`ключ-${i}`, t0);
    byBytes.sut.flush();
    await settle();
    expect(byBytes.calls.length).toBeGreaterThan(1);
    for (const call of byBytes.calls) expect(Buffer.byteLength(call.payload)).toBeLessThanOrEqual(400);
    expect(byBytes.calls.flatMap(keysOf)).toEqual(Array.from({ length: 20 }, (_, i) => `ключ-${i}`));
  });

  it('refuses batch bounds larger than the contract allows', () => {
    expect(() => setup({ maxBatchEntries: 1_001 })).toThrow(/bounded/);
    expect(() => setup({ maxBatchBytes: 256 * 1024 + 1 })).toThrow(/bounded/);
  });

  it('returns at once while a publish is still waiting for its ack', () => {
    const { sut, outcomes } = setup();
    outcomes.push('hang');
    sut.recordUse('k1', t0);
    sut.flush();
    sut.recordUse('k1', t0);
    expect(sut.pendingUses).toBe(2);
  });

  it('retries a failed publish with the same message id', async () => {
    const { sut, calls, outcomes } = setup();
    const publishedBefore = await metricValue(usesPublished);
    outcomes.push('fail');
    sut.recordUse('k1', t0);
    sut.recordUse('k1', t0);
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

  it('counts an account key’s uses on every chatbot in one entry per minute (usage is kept per key)', async () => {
    const { sut, calls } = setup();
    for (let i = 0; i < 5; i++) sut.recordUse('k3', t0 + i);
    expect(sut.pendingEntryCount()).toBe(1);

    sut.flush();
    await settle();

    expect(entries(calls[0])).toEqual([['k3', null, t0 + 4, 5, 0]]);
    expect(sut.pendingEntryCount()).toBe(0);
  });

  it('holds uses while NATS is down and counts what exceeds the bound, never silently', async () => {
    const { sut, calls, connection, logger } = setup({ maxPendingEntries: 2 });
    const before = await metricValue(usesUndelivered, 'queue_full');
    connection.up = false;

    sut.recordUse('k1', t0);
    sut.recordUse('k2', t0);
    sut.flush();
    sut.recordUse('k3', t0);
    sut.recordUse('k4', t0);
    await settle();

    expect(calls).toHaveLength(0);
    expect(sut.pendingEntryCount()).toBe(2);
    expect((await metricValue(usesUndelivered, 'queue_full')) - before).toBe(2);
    expect(logger.error).toHaveBeenCalled();

    connection.up = true;
    sut.flush();
    await settle();
    expect(calls.flatMap(keysOf)).toEqual(['k1', 'k2']);
    expect(sut.pendingEntryCount()).toBe(0);
  });

  it('keeps coalescing instead of sealing more messages while a backlog waits for acks', async () => {
    const { sut, calls, outcomes } = setup({ maxInFlight: 1 });
    outcomes.push('hang');
    sut.recordUse('k1', t0);
    sut.flush();
    sut.recordUse('k2', t0);
    sut.flush();
    for (let i = 0; i < 10; i++) {
      sut.recordUse('k3', t0 + i);
      sut.flush();
    }
    await settle();

    // One batch in flight (k1), one queued (k2); k3's ten uses still one open count.
    expect(calls).toHaveLength(1);
    expect(sut.pendingBatchCount()).toBe(2);
    expect(sut.pendingEntryCount()).toBe(3);
    expect(sut.pendingUses).toBe(12);
  });

  it('still counts further uses of a key already held when the bound is reached', () => {
    const { sut, connection } = setup({ maxPendingEntries: 1 });
    connection.up = false;
    sut.recordUse('k1', t0);
    sut.recordUse('k1', t0 + 1);
    sut.recordUse('k2', t0);
    expect(sut.pendingUses).toBe(2);
  });

  it('publishes what is pending on stop, and counts what it could not deliver', async () => {
    const { sut, calls, connection } = setup();
    sut.recordUse('k1', t0);
    await sut.stop();
    expect(calls).toHaveLength(1);

    const down = setup();
    const before = await metricValue(usesUndelivered, 'shutdown');
    down.connection.up = false;
    down.sut.recordUse('k1', t0);
    down.sut.recordUse('k1', t0);
    await down.sut.stop();
    expect((await metricValue(usesUndelivered, 'shutdown')) - before).toBe(2);
    expect(connection.up).toBe(true);
  });
});
