import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { ApiError, ensureUsageConsumer, ensureUsageStream, usageStreamNames } from '@app/common';
import { eventually, usageAllAcknowledged } from '@app/testing';
import { usageTrackerDataSourceOptions } from '../database/data-source-options.js';
import { UsageIngestRepository } from './usage-ingest.repository.js';
import { parseUse, type UseRecord } from './usage-batch.js';
import { ingestFixture, keyUsed, publishEvents, totalUses } from '../../test/usage-test-kit.js';

const fixture = ingestFixture();

async function dedupState(stream: string): Promise<{ ranges: number; appliedThrough: number }> {
  const dataSource = await new DataSource(usageTrackerDataSourceOptions(fixture.db.url, 1)).initialize();
  try {
    const [ranges] = await dataSource.query(`SELECT count(*)::int AS n FROM usage.applied_ranges WHERE stream = $1`, [stream]);
    const [state] = await dataSource.query(`SELECT applied_through::int AS n FROM usage.stream_state WHERE stream = $1`, [stream]);
    return { ranges: ranges.n, appliedThrough: state?.n ?? 0 };
  } finally {
    await dataSource.destroy();
  }
}

describe('usage-tracker ingestion (Postgres + JetStream)', () => {
  it('counts N published uses exactly, per key and minute, and answers the usage queries', async () => {
    const { bus, prefix } = await fixture.namespace('count');
    const running = await fixture.tracker(prefix);
    const base = Date.parse('2026-03-01T10:00:00.000Z');
    const expected = new Map<string, number>();
    const events = Array.from({ length: 3000 }, (_, i) => {
      const keyId = `count-k${i % 12}`;
      const count = i % 10 === 0 ? 3 : undefined;
      expected.set(keyId, (expected.get(keyId) ?? 0) + (count ?? 1));
      return keyUsed(keyId, new Date(base + (i % 180) * 1000), count);
    });
    const total = [...expected.values()].reduce((sum, n) => sum + n, 0);
    const malformed = [
      'not json',
      JSON.stringify({ keyId: 'count-k0', at: 'yesterday' }),
      JSON.stringify({ keyId: '', accountId: 'a', chatbotId: null, at: '2026-03-01T10:00:00Z' }),
    ];

    await publishEvents(bus, [...events.slice(0, 1500), ...malformed, ...events.slice(1500)]);

    expect(
      await eventually(
        () => totalUses(fixture.db.url),
        (n) => n >= total,
        { timeoutMs: 15_000 },
      ),
    ).toBe(total);
    for (const [keyId, count] of expected) expect(await totalUses(fixture.db.url, keyId)).toBe(count);
    expect(running.consumer.stats.rejected).toBe(malformed.length);

    const series = await bus.request('usageQuery', {
      keyId: 'count-k0',
      from: '2026-03-01T10:00:00Z',
      to: '2026-03-01T10:03:00Z',
      interval: 'minute',
    });
    expect(series.total).toBe(expected.get('count-k0'));
    expect(series.data.map((point) => point.start)).toEqual([
      '2026-03-01T10:00:00.000Z',
      '2026-03-01T10:01:00.000Z',
      '2026-03-01T10:02:00.000Z',
    ]);
    const hourly = await bus.request('usageQuery', {
      keyId: 'count-k0',
      from: '2026-03-01T00:00:00Z',
      to: '2026-03-02T00:00:00Z',
      interval: 'hour',
    });
    expect(hourly.data).toHaveLength(24);
    expect(hourly.data[10].count).toBe(expected.get('count-k0'));

    const lastUsed = await bus.request('usageLastUsed', { keyIds: ['count-k1', 'never-used'] });
    const latestK1 = Math.max(...events.filter((event) => event.keyId === 'count-k1').map((event) => Date.parse(event.at)));
    expect(lastUsed).toEqual({ 'count-k1': new Date(latestK1).toISOString(), 'never-used': null });
  });

  it('refuses bad usage queries with invalid_request', async () => {
    const { bus, prefix } = await fixture.namespace('query');
    await fixture.tracker(prefix);
    const ask = (query: Record<string, unknown>) =>
      bus.request('usageQuery', { keyId: 'k', ...query }).then(
        () => 'answered',
        (error: unknown) => (error instanceof ApiError ? error.code : String(error)),
      );

    expect(await ask({ from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' })).toBe('invalid_request');
    expect(await ask({ from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z', interval: 'minute' })).toBe('invalid_request');
    expect(await ask({ from: 'yesterday' })).toBe('invalid_request');
    expect(await ask({ interval: 'week' })).toBe('invalid_request');
    expect(await ask({ from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z', interval: 'minute' })).toBe('answered');
  });

  it('shows a use in lastUsedAt and totals within 5 seconds', async () => {
    const { bus, prefix } = await fixture.namespace('fresh');
    await fixture.tracker(prefix);
    const at = new Date();
    const started = Date.now();
    await publishEvents(bus, [keyUsed('fresh-k', at)]);
    const seen = await eventually(
      () => bus.request('usageLastUsed', { keyIds: ['fresh-k'] }),
      (reply) => reply['fresh-k'] !== null,
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(seen['fresh-k']).toBe(at.toISOString());
    expect((await bus.request('usageQuery', { keyId: 'fresh-k' })).total).toBe(1);
  });

  it('never counts a redelivered message twice: committed, then crashed before the ack', async () => {
    const { bus, prefix } = await fixture.namespace('redelivery');
    const names = usageStreamNames(bus);
    const jsm = await jetstreamManager(bus.connection);
    await ensureUsageStream(jsm, names);
    await ensureUsageConsumer(jsm, names, { ackWaitMs: 1_000 });
    const events = Array.from({ length: 400 }, (_, i) => keyUsed(`redelivery-k${i % 4}`, new Date(Date.parse('2026-03-01T11:00:00Z') + i)));
    await publishEvents(bus, events);

    // A replica that committed 150 messages and died before acking them.
    const consumer = await jetstream(bus.connection).consumers.get(names.stream, names.durable);
    const fetched: JsMsg[] = [];
    for await (const msg of await consumer.fetch({ max_messages: 150, expires: 2_000 })) fetched.push(msg);
    const dataSource = await new DataSource(usageTrackerDataSourceOptions(fixture.db.url, 1)).initialize();
    try {
      const repository = new UsageIngestRepository(dataSource);
      await repository.registerStream(names.stream);
      const uses = fetched.map((msg) => parseUse(msg.seq, msg.string())).flatMap<UseRecord>((parsed) => (parsed.ok ? [parsed.use] : []));
      expect(await repository.applyBatch(names.stream, uses)).toMatchObject({ applied: 150, duplicates: 0 });
      // The same batch again in-process: nothing new.
      expect(await repository.applyBatch(names.stream, uses)).toMatchObject({ applied: 0, duplicates: 150 });
    } finally {
      await dataSource.destroy();
    }
    const totalFor = async () => {
      let sum = 0;
      for (let k = 0; k < 4; k++) sum += await totalUses(fixture.db.url, `redelivery-k${k}`);
      return sum;
    };
    expect(await totalFor()).toBe(150);

    const running = await fixture.tracker(prefix, { USAGE_ACK_WAIT_MS: '1000' });

    expect(await eventually(totalFor, (n) => n >= 400 && running.consumer.stats.duplicates >= 150, { timeoutMs: 15_000 })).toBe(400);
    expect(running.consumer.stats.duplicates).toBe(150);
    await usageAllAcknowledged({ natsUrl: fixture.env.natsUrl, subjectPrefix: prefix });
    expect(await totalFor()).toBe(400);
  });

  it('keeps one copy of each waiting message when the database is slower than the ack wait, and counts exactly', async () => {
    const { bus, prefix } = await fixture.namespace('slowdb');
    const running = await fixture.tracker(prefix, { USAGE_ACK_WAIT_MS: '1000', USAGE_BATCH_SIZE: '200', USAGE_MAX_ACK_PENDING: '1000' });
    const stream = usageStreamNames(bus).stream;
    const endStall = await fixture.stallStream(stream);
    const n = 3000;
    const events = Array.from({ length: n }, (_, i) => keyUsed(`slowdb-k${i % 10}`, new Date(Date.parse('2026-03-01T13:00:00Z') + i)));
    let mostWaiting = 0;
    try {
      await publishEvents(bus, events);
      // The stall lasts until as many redelivered copies came back as ever waited (a round past the ack wait); what
      // waits is sampled meanwhile.
      await eventually(
        async () => {
          mostWaiting = Math.max(mostWaiting, running.consumer.waitingCount);
          return running.consumer.stats.replaced;
        },
        (replaced) => replaced > 0 && replaced >= mostWaiting,
        { timeoutMs: 15_000, intervalMs: 50, what: 'waiting messages redelivered while the database stalls' },
      );
    } finally {
      await endStall();
    }
    // Redelivered every second while they waited, yet never held twice: what waits stays within max_ack_pending
    // (the blocked batch's own copies come back too, and wait for the next batch).
    expect(running.consumer.stats.replaced).toBeGreaterThan(0);
    expect(mostWaiting).toBeGreaterThan(0);
    expect(mostWaiting).toBeLessThanOrEqual(1000);

    const totalFor = async () => {
      let sum = 0;
      for (let k = 0; k < 10; k++) sum += await totalUses(fixture.db.url, `slowdb-k${k}`);
      return sum;
    };
    expect(await eventually(totalFor, (total) => total >= n, { timeoutMs: 60_000, intervalMs: 250 })).toBe(n);
    await usageAllAcknowledged({ natsUrl: fixture.env.natsUrl, subjectPrefix: prefix });
    expect(await totalFor()).toBe(n);
  });

  it(
    'shares the consumer between two replicas with exact totals',
    async () => {
      const { bus, prefix } = await fixture.namespace('replicas');
      const first = await fixture.tracker(prefix, { USAGE_BATCH_SIZE: '200' });
      const second = await fixture.tracker(prefix, { USAGE_BATCH_SIZE: '200' });
      const n = 20_000;
      const events = Array.from({ length: n }, (_, i) =>
        keyUsed(`replicas-k${i % 50}`, new Date(Date.parse('2026-03-01T12:00:00Z') + i * 7)),
      );

      await publishEvents(bus, events);

      const totalFor = async () => {
        let sum = 0;
        for (let k = 0; k < 50; k++) sum += await totalUses(fixture.db.url, `replicas-k${k}`);
        return sum;
      };
      expect(await eventually(totalFor, (total) => total >= n, { timeoutMs: 60_000, intervalMs: 250 })).toBe(n);
      expect(first.consumer.stats.applied).toBeGreaterThan(0);
      expect(second.consumer.stats.applied).toBeGreaterThan(0);
      expect(first.consumer.stats.applied + second.consumer.stats.applied).toBe(n);

      // Applied runs are folded into the stream's mark once the ack floor passes them.
      const stream = usageStreamNames(bus).stream;
      const state = await eventually(
        () => dedupState(stream),
        (current) => current.ranges === 0 && current.appliedThrough === n,
        { timeoutMs: 10_000, intervalMs: 200 },
      );
      expect(state).toEqual({ ranges: 0, appliedThrough: n });
    },
    90_000 /* 20,000 events through two replicas: a minute on a loaded 2-core machine */,
  );
});
