import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { dropRunNamespace } from '../../../scripts/run-namespace.mjs';
import {
  freePort,
  freePorts,
  migrate,
  ROOT,
  SERVICES,
  startSystem,
  stopChild,
  waitUntilReady,
  type RunningSystem,
} from '../../../scripts/system.mjs';
import { runUsageStream } from './usage-stream.js';
import { testEnvironment, type ServerUrls, type TestEnvironment } from './environment.js';

export interface TestSystem {
  env: TestEnvironment;
  gatewayUrl: string;
  /** The gateway's GATEWAY_METRICS_PORT: `/metrics` and the health routes. */
  gatewayMetricsUrl: string;
  upstreamUrl: string;
  adminToken: string;
  databaseUrl: string;
  running: RunningSystem;
  /** The environment every service was started with (ports aside). */
  serviceEnv: NodeJS.ProcessEnv;
  /** Everything every service has logged so far. */
  logs(): string;
  /** One more process of a service (e.g. a second gateway), same environment, own port; stopped with the system. */
  startReplica(service: string, extraEnv?: NodeJS.ProcessEnv): Promise<ServiceReplica>;
  stop(): Promise<void>;
}

export interface ServiceReplica {
  name: string;
  port: number;
  url: string;
  /** Where its `/metrics` is: its metrics port when it has one (the gateway), else its HTTP port. */
  metricsUrl: string;
  child: ChildProcess;
}

export interface TestSystemOptions {
  /** Servers to use instead of those the environment names (a fault test's private ones). */
  servers?: Partial<ServerUrls>;
  /**
   * Environment of one service only, by service name (replicas too): e.g. its own NATS user
   * (`NATS_USER`, `NATS_PASSWORD`) against a server with per-service permissions.
   */
  serviceEnv?: Record<string, NodeJS.ProcessEnv>;
  /**
   * The NATS server is the test's own (and may refuse an unauthenticated client): the run's
   * streams are left to go with it rather than deleted at stop.
   */
  privateNats?: boolean;
}

/**
 * The whole system as a client meets it: every service built in dist/ running as its own
 * process, on free ports, in a namespace of its own (database, Redis prefix, subject prefix).
 */
export async function startTestSystem(extraEnv: NodeJS.ProcessEnv = {}, options: TestSystemOptions = {}): Promise<TestSystem> {
  const env = testEnvironment(options.servers);
  const logDir = mkdtempSync(join(tmpdir(), `${env.runId}-logs-`));
  const adminToken = randomBytes(24).toString('hex');
  const ports: Record<string, number> = await freePorts();

  const serviceEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    REDIS_KEY_PREFIX: env.redisPrefix,
    NATS_URL: env.natsUrl,
    NATS_SUBJECT_PREFIX: env.subjectPrefix,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'debug',
    ...extraEnv,
  };
  await migrate(serviceEnv);
  const envFor = (name: string) => options.serviceEnv?.[name] ?? {};
  const running = await startSystem({ env: serviceEnv, ports, output: (name) => join(logDir, `${name}.log`), envFor });
  const replicas: ServiceReplica[] = [];
  const replicaEnv: NodeJS.ProcessEnv = { UPSTREAM_URL: `http://127.0.0.1:${ports['demo-upstream']}`, ...serviceEnv };
  for (const service of SERVICES) {
    replicaEnv[service.portVariable] = String(ports[service.name]);
    if (service.metricsPortVariable) replicaEnv[service.metricsPortVariable] = String(ports[`${service.name}-metrics`]);
  }

  return {
    env,
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    gatewayMetricsUrl: `http://127.0.0.1:${ports['gateway-metrics']}`,
    upstreamUrl: `http://127.0.0.1:${ports['demo-upstream']}`,
    adminToken,
    databaseUrl: env.databaseUrl,
    running,
    serviceEnv: replicaEnv,
    logs: () =>
      readdirSync(logDir)
        .map((file) => readFileSync(join(logDir, file), 'utf8'))
        .join('\n'),
    startReplica: async (name, extra = {}) => {
      const replica = await startReplica(
        name,
        { ...replicaEnv, ...envFor(name), ...extra },
        join(logDir, `${name}-${replicas.length + 2}.log`),
      );
      replicas.push(replica);
      return replica;
    },
    stop: async () => {
      await Promise.all(replicas.map(({ child }) => stopChild(child)));
      await running.stop();
      // A private NATS server may refuse an unauthenticated client: its streams go with it.
      await dropRunNamespace(env, { streams: options.privateNats ? [] : [runUsageStream(env)] });
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}

async function startReplica(name: string, env: NodeJS.ProcessEnv, logFile: string): Promise<ServiceReplica> {
  const service = SERVICES.find((candidate) => candidate.name === name);
  if (!service) throw new Error(`no service named ${name}`);
  const port = await freePort();
  const metricsPort = service.metricsPortVariable ? await freePort() : port;
  const ownPorts = {
    [service.portVariable]: String(port),
    ...(service.metricsPortVariable ? { [service.metricsPortVariable]: String(metricsPort) } : {}),
  };
  const child = spawn(process.execPath, [join(ROOT, 'dist', service.entry)], {
    env: { ...env, ...ownPorts },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(`${url}/health/ready`, child, 30_000);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return { name, port, url, metricsUrl: `http://127.0.0.1:${metricsPort}`, child };
}

/** Every value the system stores, as text: all rows of all tables and every Redis key and value under the run's prefix. */
export async function dumpStoredData(system: TestSystem): Promise<string> {
  const client = new pg.Client({ connectionString: system.databaseUrl });
  await client.connect();
  const tables = await client.query<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
     WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
  );
  const parts: string[] = [];
  for (const { schema, name } of tables.rows) {
    const rows = await client.query(`SELECT row_to_json(t)::text AS row FROM "${schema}"."${name}" t`);
    parts.push(...rows.rows.map((row: { row: string }) => row.row));
  }
  await client.end();
  const redis = new Redis(system.env.redisUrl);
  const keys = await redis.keys(`${system.env.redisPrefix}*`);
  for (const key of keys) {
    const type = await redis.type(key);
    const value = type === 'string' ? await redis.get(key) : JSON.stringify(await redis.dump(key));
    parts.push(`${key} ${value}`);
  }
  redis.disconnect();
  return parts.join('\n');
}
