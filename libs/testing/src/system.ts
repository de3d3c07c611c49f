import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { freePort, freePorts, migrate, ROOT, SERVICES, startSystem, type RunningSystem } from '../../../scripts/system.mjs';
import { deleteRunUsageStream } from './usage-stream.js';
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
  const database = new URL(env.postgresUrl);
  database.pathname = `/${env.runId}`;
  const logDir = mkdtempSync(join(tmpdir(), `${env.runId}-logs-`));
  const adminToken = randomBytes(24).toString('hex');
  const ports: Record<string, number> = await freePorts();

  const serviceEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: database.toString(),
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
    databaseUrl: database.toString(),
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
      await dropNamespace(env, database.toString(), !options.privateNats);
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
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} replica exited with ${child.exitCode}`);
    const ready = await fetch(`${url}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`${name} replica was not ready within 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { name, port, url, metricsUrl: `http://127.0.0.1:${metricsPort}`, child };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function dropNamespace(env: TestEnvironment, databaseUrl: string, deleteStreams: boolean): Promise<void> {
  const redis = new Redis(env.redisUrl, { lazyConnect: true });
  await redis.connect();
  const keys = await redis.keys(`${env.redisPrefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  const admin = new pg.Client({ connectionString: env.postgresUrl });
  await admin.connect();
  const name = new URL(databaseUrl).pathname.slice(1);
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
  await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
  await admin.end();
  if (deleteStreams) await deleteRunUsageStream(env);
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
