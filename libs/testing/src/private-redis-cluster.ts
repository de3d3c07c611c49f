import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from '../../../scripts/system.mjs';
import { ProcessServer, type PausableServer } from './private-servers.js';
import { eventually } from './polling.js';

const run = promisify(execFile);

export interface PrivateRedisClusterOptions {
  /** Masters, each with an equal share of the slots (no replicas). Default 3. */
  nodes?: number;
  /** `requirepass` on every node (and `masterauth` between them). */
  password?: string;
  /**
   * TLS only, between clients and nodes and on the cluster bus, with this certificate (for the
   * name `localhost`); the nodes announce themselves as `localhost`, as managed clusters announce
   * host names, so that a client can check the certificate against the name it connects to.
   */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

export interface PrivateRedisCluster {
  /** The nodes, each the master of a contiguous range of slots. */
  readonly nodes: readonly PausableServer[];
  /** `redis+cluster://` (or `rediss+cluster://`) naming the first node, with the password. */
  readonly url: string;
  /** Options for a plain ioredis client to one node (TLS, password). */
  readonly nodeOptions: RedisOptions;
  /** The node serving a slot. */
  nodeOwning(slot: number): PausableServer;
  /** Until every node reports `cluster_state:ok`. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node and deletes their directories. */
  destroy(): Promise<void>;
}

/**
 * A Redis Cluster of the test's own: `redis-server --cluster-enabled yes` processes on free
 * ports, each with its data and `nodes.conf` in a temporary directory, joined by
 * `redis-cli --cluster create`. No persistence: a node that restarts keeps its slots (from
 * `nodes.conf`) but comes back empty, like a replaced cache node. If starting fails halfway,
 * whatever started is stopped and deleted before the error is thrown.
 */
export async function startPrivateRedisCluster(options: PrivateRedisClusterOptions = {}): Promise<PrivateRedisCluster> {
  const count = options.nodes ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'private-redis-cluster-'));
  const nodes: ProcessServer[] = [];
  const host = options.tls ? 'localhost' : '127.0.0.1';
  const nodeOptions: RedisOptions = {
    host,
    password: options.password,
    tls: options.tls ? { ca: readFileSync(options.tls.caFile, 'utf8') } : undefined,
  };
  const destroy = async () => {
    await Promise.all(nodes.map((node) => node.destroy()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let index = 0; index < count; index += 1) {
      const [port, busPort] = [await freePort(), await freePort()];
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      const args = [
        ...(options.tls
          ? [
              ...['--port', '0', '--tls-port', String(port), '--tls-cluster', 'yes', '--tls-replication', 'yes'],
              ...['--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile, '--tls-ca-cert-file', options.tls.caFile],
              ...['--tls-auth-clients', 'no', '--cluster-announce-hostname', 'localhost', '--cluster-preferred-endpoint-type', 'hostname'],
            ]
          : ['--port', String(port)]),
        ...(options.password ? ['--requirepass', options.password, '--masterauth', options.password] : []),
        ...['--bind', '127.0.0.1', '--dir', nodeDir, '--save', '', '--appendonly', 'no'],
        ...['--cluster-enabled', 'yes', '--cluster-config-file', join(nodeDir, 'nodes.conf'), '--cluster-port', String(busPort)],
        // Long enough that a node restarted within a test is never marked failed.
        ...['--cluster-node-timeout', '15000'],
      ];
      const node = new ProcessServer(
        'redis-cluster-node',
        port,
        `redis://${host}:${port}`,
        nodeDir,
        () => spawn('redis-server', args, { stdio: 'ignore' }),
        () => answers({ ...nodeOptions, port }),
      );
      nodes.push(node);
      await node.start();
    }
    const cliOptions = [
      ...(options.password ? ['-a', options.password, '--no-auth-warning'] : []),
      ...(options.tls ? ['--tls', '--cacert', options.tls.caFile] : []),
    ];
    await run('redis-cli', [
      ...cliOptions,
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
  } catch (error) {
    await destroy();
    throw error;
  }

  const waitHealthy = async (timeoutMs = 15_000): Promise<void> => {
    await eventually(
      async () => (await Promise.all(nodes.map((node) => clusterState({ ...nodeOptions, port: node.port })))).every((ok) => ok),
      Boolean,
      { what: 'every cluster node to report cluster_state:ok', timeoutMs },
    );
  };
  let owners: { from: number; to: number; port: number }[];
  try {
    await waitHealthy();
    const slots = (await ask({ ...nodeOptions, port: nodes[0].port }, (probe) => probe.cluster('SLOTS'))) ?? [];
    owners = slots.map(([from, to, master]) => ({ from, to, port: master[1] }));
  } catch (error) {
    await destroy();
    throw error;
  }
  const scheme = options.tls ? 'rediss+cluster' : 'redis+cluster';
  const credentials = options.password ? `default:${encodeURIComponent(options.password)}@` : '';
  return {
    nodes,
    url: `${scheme}://${credentials}${host}:${nodes[0].port}`,
    nodeOptions,
    nodeOwning: (slot) => {
      const owner = owners.find(({ from, to }) => slot >= from && slot <= to);
      const node = nodes.find(({ port }) => port === owner?.port);
      if (!node) throw new Error(`no node serves slot ${slot}`);
      return node;
    },
    waitHealthy,
    destroy,
  };
}

async function answers(options: RedisOptions): Promise<boolean> {
  return (await ask(options, (probe) => probe.ping())) === 'PONG';
}

async function clusterState(options: RedisOptions): Promise<boolean> {
  const info = await ask(options, (probe) => probe.cluster('INFO'));
  return typeof info === 'string' && info.includes('cluster_state:ok');
}

async function ask<T>(options: RedisOptions, question: (probe: Redis) => Promise<T>): Promise<T | null> {
  const probe = new Redis({ ...options, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return await question(probe);
  } catch {
    return null;
  } finally {
    if (probe.status !== 'end') probe.disconnect();
  }
}
