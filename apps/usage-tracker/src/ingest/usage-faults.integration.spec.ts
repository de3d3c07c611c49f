import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import type { NatsBus } from '@app/common';
import {
  createTestDatabase,
  testEnvironment,
  type TestDatabase,
  type TestEnvironment,
  eventually,
  freePort,
  usageAllAcknowledged,
} from '@app/testing';
import { migrateUsageTracker } from '../database/migrate.js';
import { UsagePublisher, DEFAULT_USAGE_PUBLISHER_OPTIONS } from '../../../gateway/src/usage/usage-publisher.js';
import { usesUndelivered } from '../../../gateway/src/usage/usage-metrics.js';
import {
  connectBus,
  deleteUsageStream,
  keyUsed,
  publishEvents,
  quietLogger,
  sleep,
  startTracker,
  totalUses,
  trackerConfig,
  type RunningTracker,
} from '../../test/usage-test-kit.js';

jest.setTimeout(120_000);

const repoRoot = resolve(import.meta.dirname, '../../../..');
let env: TestEnvironment;
let db: TestDatabase;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  env = testEnvironment();
  db = await createTestDatabase(env);
  await migrateUsageTracker(db.url);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await db?.drop();
});

async function sumFor(prefix: string, keys: number): Promise<number> {
  let sum = 0;
  for (let k = 0; k < keys; k++) sum += await totalUses(db.url, `${prefix}-k${k}`);
  return sum;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((done) => child.once('exit', () => done()));
}

describe('usage-tracker under faults', () => {
  /**
   * The tracker runs as a real child process, from sources through a small TypeScript
   * loader (the build is not there in test runs), so SIGKILL ends it the way a crash
   * would: no drain, no acks for the batch in hand.
   */
  it('loses and double-counts nothing when the tracker is killed with SIGKILL mid-stream and restarted', async () => {
    const prefix = `${env.subjectPrefix}.kill`;
    const bus = await connectBus(env.natsUrl, prefix);
    cleanups.push(async () => {
      await deleteUsageStream(bus);
      await bus.close();
    });
    const port = await freePort();
    const spawnTracker = async (): Promise<ChildProcess> => {
      const child = spawn(process.execPath, ['--import', './scripts/register-ts-loader.mjs', 'apps/usage-tracker/src/main.ts'], {
        cwd: repoRoot,
        env: {
          ...process.env,
          NATS_URL: env.natsUrl,
          NATS_SUBJECT_PREFIX: prefix,
          DATABASE_URL: db.url,
          USAGE_TRACKER_HTTP_PORT: String(port),
          USAGE_BATCH_SIZE: '200',
          USAGE_ACK_WAIT_MS: '2000',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      cleanups.push(async () => {
        child.kill('SIGKILL');
        await exited(child);
      });
      const ready = await eventually(
        () =>
          fetch(`http://127.0.0.1:${port}/health/ready`).then(
            (reply) => reply.status,
            () => 0,
          ),
        (status) => status === 200 || child.exitCode !== null,
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(ready).toBe(200);
      return child;
    };
    const n = 30_000;
    const events = Array.from({ length: n }, (_, i) => keyUsed(`kill-k${i % 20}`, new Date(Date.parse('2026-03-02T10:00:00Z') + i * 3)));

    const first = await spawnTracker();
    const publishing = publishEvents(bus, events, 200);
    await eventually(
      () => sumFor('kill', 20),
      (total) => total >= 3_000,
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    first.kill('SIGKILL');
    await exited(first);
    const atKill = await sumFor('kill', 20);
    await publishing;

    expect(first.signalCode).toBe('SIGKILL');
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(n);

    const second = await spawnTracker();
    expect(
      await eventually(
        () => sumFor('kill', 20),
        (total) => total >= n,
        { timeoutMs: 60_000, intervalMs: 250 },
      ),
    ).toBe(n);
    // Nothing left unacknowledged: no late redelivery can add to it.
    await usageAllAcknowledged({ natsUrl: env.natsUrl, subjectPrefix: prefix });
    expect(await sumFor('kill', 20)).toBe(n);
    second.kill('SIGTERM');
    await exited(second);
  });

  it('loses and double-counts nothing when NATS restarts mid-stream (gateway publisher to tracker)', async () => {
    const natsPort = await freePort();
    const storeDir = mkdtempSync(join(tmpdir(), `${env.runId}-nats-`));
    const natsUrl = `nats://127.0.0.1:${natsPort}`;
    let server: ChildProcess | undefined;
    const startNats = async () => {
      server = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(natsPort), '-sd', storeDir], { stdio: 'ignore' });
      const probe = await eventually(
        () =>
          fetch(`http://127.0.0.1:${natsPort}`).then(
            () => true,
            (error: { cause?: { code?: string } }) => error.cause?.code !== 'ECONNREFUSED',
          ),
        (up) => up,
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      expect(probe).toBe(true);
    };
    cleanups.push(async () => {
      server?.kill('SIGKILL');
      if (server) await exited(server);
      rmSync(storeDir, { recursive: true, force: true });
    });
    await startNats();

    const prefix = `${env.subjectPrefix}.restart`;
    const tracker: RunningTracker = await startTracker(
      trackerConfig({ natsUrl, subjectPrefix: prefix, databaseUrl: db.url }, { USAGE_ACK_WAIT_MS: '2000', USAGE_BATCH_SIZE: '200' }),
    );
    cleanups.push(() => tracker.close());
    const bus: NatsBus = await connectBus(natsUrl, prefix);
    cleanups.push(() => bus.close());
    const publisher = new UsagePublisher(
      {
        jetStream: jetstream(bus.connection),
        subject: bus.subject('keyUsedBatch'),
        isConnected: () => bus.connected,
        logger: quietLogger(),
      },
      { ...DEFAULT_USAGE_PUBLISHER_OPTIONS, publishTimeoutMs: 2_000, shutdownTimeoutMs: 30_000 },
    );
    publisher.start();
    const undeliveredBefore = (await usesUndelivered.get()).values.reduce((sum, value) => sum + value.value, 0);

    // ~5 s of traffic; NATS goes down after 1.5 s and comes back 1 s later.
    let recorded = 0;
    const started = Date.now();
    let restarted = false;
    while (Date.now() - started < 5_000) {
      for (let i = 0; i < 40; i++) {
        publisher.recordUse(`restart-k${recorded % 30}`);
        recorded += 1;
      }
      if (!restarted && Date.now() - started > 1_500) {
        restarted = true;
        server!.kill('SIGTERM');
        await exited(server!);
        // A time, not a condition: the outage's length is part of the scenario.
        await sleep(1_000);
        await startNats();
      }
      // Pacing the traffic, not waiting for anything.
      await sleep(5);
    }
    await publisher.stop();

    const undeliveredAfter = (await usesUndelivered.get()).values.reduce((sum, value) => sum + value.value, 0);
    expect(restarted).toBe(true);
    expect(undeliveredAfter - undeliveredBefore).toBe(0);
    expect(
      await eventually(
        () => sumFor('restart', 30),
        (total) => total >= recorded,
        { timeoutMs: 60_000, intervalMs: 250 },
      ),
    ).toBe(recorded);
    await usageAllAcknowledged({ natsUrl, subjectPrefix: prefix });
    expect(await sumFor('restart', 30)).toBe(recorded);
    await deleteUsageStream(bus);
  });
});
