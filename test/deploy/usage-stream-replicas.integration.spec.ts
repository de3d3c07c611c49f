import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ensureUsageStream, usageStreamNames } from '@app/common';
import { eventually, freePort } from '@app/testing';

/**
 * The prod overlay runs the key.used stream on a 3-server NATS cluster. A stream created with
 * one replica (before USAGE_STREAM_REPLICAS was set, or on a smaller cluster) must become
 * replicated when the services start with the new setting, or losing its one server stops
 * usage publishing.
 */
const SERVERS = 3;
let dir: string;
let servers: ChildProcess[] = [];
let nats: NatsConnection;
let jsm: JetStreamManager;
const names = usageStreamNames({ subject: () => `replicas${process.pid}.key.used` });

async function jetStreamClusterReady(monitorPorts: number[]): Promise<boolean> {
  try {
    type Jsz = { meta_cluster?: { leader?: string; cluster_size?: number } };
    const answers = await Promise.all(
      monitorPorts.map((port) => fetch(`http://127.0.0.1:${port}/jsz`).then((response) => response.json() as Promise<Jsz>)),
    );
    return answers.every((jsz) => Boolean(jsz.meta_cluster?.leader) && jsz.meta_cluster?.cluster_size === SERVERS);
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deploy-nats-cluster-'));
  const clientPorts = await Promise.all(Array.from({ length: SERVERS }, () => freePort()));
  const routePorts = await Promise.all(Array.from({ length: SERVERS }, () => freePort()));
  const monitorPorts = await Promise.all(Array.from({ length: SERVERS }, () => freePort()));
  const routes = routePorts.map((port) => `nats://127.0.0.1:${port}`).join(',');
  servers = clientPorts.map((port, index) =>
    spawn(
      'nats-server',
      [
        '-js',
        '-n',
        `n${index}`,
        '-a',
        '127.0.0.1',
        '-p',
        String(port),
        '-m',
        String(monitorPorts[index]),
        '-sd',
        join(dir, `n${index}`),
        '--cluster_name',
        'deploy-test',
        '--cluster',
        `nats://127.0.0.1:${routePorts[index]}`,
        '--routes',
        routes,
      ],
      { stdio: 'ignore' },
    ),
  );
  await eventually(() => jetStreamClusterReady(monitorPorts), Boolean, {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: 'the JetStream cluster',
  });
  nats = await connect({ servers: clientPorts.map((port) => `nats://127.0.0.1:${port}`) });
  jsm = await jetstreamManager(nats);
}, 60_000);

afterAll(async () => {
  await jsm?.streams.delete(names.stream).catch(() => false);
  await nats?.close();
  for (const server of servers) server.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the key.used stream on a 3-server NATS cluster', () => {
  it('is brought from 1 to 3 replicas when the services start with USAGE_STREAM_REPLICAS=3, and back', async () => {
    await ensureUsageStream(jsm, names, 1);
    expect((await jsm.streams.info(names.stream)).config.num_replicas).toBe(1);

    await ensureUsageStream(jsm, names, 3);
    const replicated = await eventually(
      () => jsm.streams.info(names.stream),
      (info) => info.config.num_replicas === 3 && (info.cluster?.replicas?.length ?? 0) === 2,
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect({ replicas: replicated.config.num_replicas, peers: replicated.cluster?.replicas?.length }).toEqual({ replicas: 3, peers: 2 });

    await ensureUsageStream(jsm, names, 1);
    expect((await jsm.streams.info(names.stream)).config.num_replicas).toBe(1);
  }, 30_000);

  it('names USAGE_STREAM_REPLICAS when the cluster cannot hold that many replicas', async () => {
    await expect(ensureUsageStream(jsm, names, 5)).rejects.toThrow(/USAGE_STREAM_REPLICAS/);
  });
});
