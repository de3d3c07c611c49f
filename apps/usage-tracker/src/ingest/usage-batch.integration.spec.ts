import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { USAGE_BATCH_LIMITS, type KeyUsedBatchEntry } from '@app/contracts';
import { ensureUsageConsumer, ensureUsageStream, usageStreamConfig, usageStreamNames } from '@app/common';
import { eventually, usageAllAcknowledged } from '@app/testing';
import { usageTrackerDataSourceOptions } from '../database/data-source-options.js';
import { UsageIngestRepository } from './usage-ingest.repository.js';
import { parseUsageBatch } from './usage-batch.js';
import { ingestFixture, keyUsed, publishBatches, publishEvents, totalUses } from '../../test/usage-test-kit.js';

const fixture = ingestFixture();

/** `keys` keys named `<name>-k<i>`; `batches` messages of `perBatch` entries each, with counts 1..5. */
function batchesOf(name: string, batches: number, perBatch: number, keys: number, base: number) {
  const expected = new Map<string, number>();
  const messages = Array.from({ length: batches }, (_, b) => ({
    uses: Array.from({ length: perBatch }, (_, e): KeyUsedBatchEntry => {
      const i = b * perBatch + e;
      const keyId = `${name}-k${i % keys}`;
      const count = (i % 5) + 1;
      expected.set(keyId, (expected.get(keyId) ?? 0) + count);
      return [keyId, base + (i % 240) * 1000, count, 0];
    }),
    msgID: `${name}-${b}`,
  }));
  return { messages, expected };
}

/** Uses counted for every key of a test (`<name>-k…`), in one query. */
async function totalOf(name: string): Promise<number> {
  const client = new pg.Client({ connectionString: fixture.db.url });
  await client.connect();
  try {
    const result = await client.query(`SELECT coalesce(sum(count), 0)::text AS total FROM usage.key_usage_minutes WHERE key_id LIKE $1`, [
      `${name}-k%`,
    ]);
    return Number(result.rows[0].total);
  } finally {
    await client.end();
  }
}

const total = (expected: Map<string, number>) => [...expected.values()].reduce((sum, n) => sum + n, 0);

describe('usage-tracker ingestion of key.used.batch (Postgres + JetStream)', () => {
  it('counts batches and single uses together exactly on two replicas, a republished batch once', async () => {
    const { bus, prefix } = await fixture.namespace('batches');
    const first = await fixture.tracker(prefix, { USAGE_BATCH_SIZE: '500' });
    const second = await fixture.tracker(prefix, { USAGE_BATCH_SIZE: '500' });
    const { messages, expected } = batchesOf('batches', 200, 100, 300, Date.parse('2026-03-02T10:00:00Z'));
    const singles = Array.from({ length: 2000 }, (_, i) =>
      keyUsed(`batches-k${i % 300}`, new Date(Date.parse('2026-03-02T10:05:00Z') + i)),
    );
    for (const single of singles) expected.set(single.keyId, (expected.get(single.keyId) ?? 0) + 1);

    // A publish retried after a lost ack carries the same id: the stream keeps the first copy.
    await Promise.all([publishBatches(bus, [...messages, ...messages.slice(0, 50)]), publishEvents(bus, singles)]);

    expect(
      await eventually(
        () => totalOf('batches'),
        (n) => n >= total(expected),
        { timeoutMs: 30_000, intervalMs: 250 },
      ),
    ).toBe(total(expected));
    for (const [keyId, count] of [...expected].slice(0, 20)) expect(await totalUses(fixture.db.url, keyId)).toBe(count);
    expect(first.consumer.stats.applied).toBeGreaterThan(0);
    expect(second.consumer.stats.applied).toBeGreaterThan(0);
    expect(first.consumer.stats.applied + second.consumer.stats.applied).toBe(messages.length + singles.length);
    // Nothing left unacknowledged: no redelivery can change the total any more.
    await usageAllAcknowledged({ natsUrl: fixture.env.natsUrl, subjectPrefix: prefix });
    expect(await totalOf('batches')).toBe(total(expected));
  }, 90_000);

  it('terminates a malformed batch with a log, and counts the valid entries of a batch beside its bad ones', async () => {
    const { bus, prefix } = await fixture.namespace('malformed');
    const running = await fixture.tracker(prefix);
    const at = Date.parse('2026-03-02T11:00:00Z');
    const tooMany = Array.from({ length: USAGE_BATCH_LIMITS.maxEntries + 1 }, () => ['malformed-k1', at, 1, 0]);
    await publishBatches(bus, [
      { uses: 'not json' },
      { uses: JSON.stringify({ uses: [] }) },
      { uses: JSON.stringify({ uses: [['malformed-k1', at, 1, 0]], extra: true }) },
      { uses: tooMany },
      {
        uses: [
          ['malformed-k1', at, 4, 0],
          ['', at, 1, 0],
          // With the chatbot second, as gateways write it: counted too.
          ['malformed-k2', 'bot', at, 1, 0],
          ['malformed-k1', 'yesterday', 1, 0],
          ['malformed-k1', null, at, 1, 0],
        ],
      },
    ]);

    expect(
      await eventually(
        () => totalOf('malformed'),
        (n) => n >= 6,
        { timeoutMs: 15_000 },
      ),
    ).toBe(6);
    expect(await totalUses(fixture.db.url, 'malformed-k1')).toBe(5);
    expect(
      await eventually(
        async () => running.consumer.stats.rejected,
        (n) => n >= 4,
        { timeoutMs: 5_000 },
      ),
    ).toBe(4);
    expect(running.consumer.stats.rejectedEntries).toBe(2);
    // Terminated, not redelivered: nothing is left for the consumer.
    const jsm = await jetstreamManager(bus.connection);
    const unsettled = async () => {
      const info = await jsm.consumers.info(usageStreamNames(bus).stream, 'usage-tracker');
      return info.num_pending + info.num_ack_pending;
    };
    expect(await eventually(unsettled, (n) => n === 0, { timeoutMs: 5_000 })).toBe(0);
  });

  it('never counts a redelivered batch twice: committed, then crashed before the ack', async () => {
    const { bus, prefix } = await fixture.namespace('batchredelivery');
    const names = usageStreamNames(bus);
    const jsm = await jetstreamManager(bus.connection);
    await ensureUsageStream(jsm, names);
    await ensureUsageConsumer(jsm, names, { ackWaitMs: 1_000 });
    const { messages, expected } = batchesOf('batchredelivery', 60, 50, 40, Date.parse('2026-03-02T12:00:00Z'));
    await publishBatches(bus, messages);

    // A replica that committed 20 batch messages and died before acking them.
    const consumer = await jetstream(bus.connection).consumers.get(names.stream, names.durable);
    const fetched: JsMsg[] = [];
    for await (const msg of await consumer.fetch({ max_messages: 20, expires: 2_000 })) fetched.push(msg);
    expect(fetched).toHaveLength(20);
    const dataSource = await new DataSource(usageTrackerDataSourceOptions(fixture.db.url, 1)).initialize();
    try {
      const repository = new UsageIngestRepository(dataSource);
      await repository.registerStream(names.stream);
      const uses = fetched.flatMap((msg) => {
        const parsed = parseUsageBatch(msg.seq, msg.string());
        return parsed.ok ? parsed.uses : [];
      });
      expect(uses).toHaveLength(20 * 50);
      expect(await repository.applyBatch(names.stream, uses)).toMatchObject({ applied: 20, duplicates: 0 });
      expect(await repository.applyBatch(names.stream, uses)).toMatchObject({ applied: 0, duplicates: 20, uses: 0 });
    } finally {
      await dataSource.destroy();
    }

    const running = await fixture.tracker(prefix, { USAGE_ACK_WAIT_MS: '1000', USAGE_BATCH_SIZE: '300' });

    expect(
      await eventually(
        () => totalOf('batchredelivery'),
        (n) => n >= total(expected) && running.consumer.stats.duplicates >= 20,
        { timeoutMs: 15_000 },
      ),
    ).toBe(total(expected));
    expect(running.consumer.stats.duplicates).toBe(20);
    // Nothing left unacknowledged: no redelivery can change the total any more.
    await usageAllAcknowledged({ natsUrl: fixture.env.natsUrl, subjectPrefix: prefix });
    expect(await totalOf('batchredelivery')).toBe(total(expected));
  });

  it('holds at most eight batches’ worth of counts while the database stalls, hands the rest back, and counts exactly', async () => {
    const { bus, prefix } = await fixture.namespace('stall');
    const running = await fixture.tracker(prefix, { USAGE_BATCH_SIZE: '100' });
    const stream = usageStreamNames(bus).stream;
    const endStall = await fixture.stallStream(stream);
    const { messages, expected } = batchesOf('stall', 40, 100, 50, Date.parse('2026-03-02T14:00:00Z'));
    let mostWaiting = 0;
    try {
      await publishBatches(bus, messages);
      // The stall lasts until every message past the eight it may hold (and one crossing the mark) was handed back
      // at least once; what it holds is sampled meanwhile.
      await eventually(
        async () => {
          mostWaiting = Math.max(mostWaiting, running.consumer.waitingRecordCount);
          return running.consumer.stats.deferred;
        },
        (deferred) => deferred >= messages.length - 9,
        { timeoutMs: 10_000, intervalMs: 20, what: 'batches handed back while the database stalls' },
      );
    } finally {
      await endStall();
    }
    expect(running.consumer.stats.deferred).toBeGreaterThan(0);
    expect(mostWaiting).toBeGreaterThan(0);
    // Eight batches of 100, plus at most the message that crossed the mark.
    expect(mostWaiting).toBeLessThan(8 * 100 + 100);

    expect(
      await eventually(
        () => totalOf('stall'),
        (n) => n >= total(expected),
        { timeoutMs: 30_000, intervalMs: 250 },
      ),
    ).toBe(total(expected));
    // Nothing left unacknowledged: no redelivery can change the total any more.
    await usageAllAcknowledged({ natsUrl: fixture.env.natsUrl, subjectPrefix: prefix });
    expect(await totalOf('stall')).toBe(total(expected));
  }, 90_000);

  it('takes over a consumer declared before batches existed (filtered on key.used) without losing a use', async () => {
    const { bus, prefix } = await fixture.namespace('takeover');
    const names = usageStreamNames(bus);
    const jsm = await jetstreamManager(bus.connection);
    // The stream and consumer as an earlier release declared them: single uses only.
    await jsm.streams.add({ ...usageStreamConfig(names), subjects: [names.subject], max_msg_size: 4 * 1024 });
    await jsm.consumers.add(names.stream, {
      durable_name: names.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: names.subject,
      max_deliver: -1,
    });
    const singles = Array.from({ length: 300 }, (_, i) => keyUsed(`takeover-k${i % 5}`, new Date(Date.parse('2026-03-02T13:00:00Z') + i)));
    await publishEvents(bus, singles);

    await fixture.tracker(prefix);
    const { messages, expected } = batchesOf('takeover', 10, 30, 5, Date.parse('2026-03-02T13:10:00Z'));
    for (const single of singles) expected.set(single.keyId, (expected.get(single.keyId) ?? 0) + 1);
    await publishBatches(bus, messages);

    expect(
      await eventually(
        () => totalOf('takeover'),
        (n) => n >= total(expected),
        { timeoutMs: 15_000 },
      ),
    ).toBe(total(expected));
    const consumer = await jsm.consumers.info(names.stream, names.durable);
    expect(consumer.config.filter_subject ?? '').toBe('');
    expect((await jsm.streams.info(names.stream)).config.subjects).toEqual([names.subject, names.batchSubject]);
    await usageAllAcknowledged({ natsUrl: fixture.env.natsUrl, subjectPrefix: prefix });
    expect(await totalOf('takeover')).toBe(total(expected));
  });
});
