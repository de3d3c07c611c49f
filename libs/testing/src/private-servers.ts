import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { eventually } from './polling.js';

const run = promisify(execFile);

/**
 * Redis, NATS and PostgreSQL servers of a test's own, on free ports, with their data in a
 * temporary directory: fault tests stop, kill and pause these, never the shared services.
 * A server restarts on the same port, so clients that reconnect find it again.
 */
export interface PrivateServer {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  /** Starts (again) and resolves once the server answers. */
  start(): Promise<void>;
  /** A clean shutdown (SIGTERM, or `pg_ctl stop -m fast`). */
  stop(): Promise<void>;
  /** A crash: SIGKILL (`pg_ctl stop -m immediate` for PostgreSQL). */
  kill(): Promise<void>;
  /** Stops and deletes its data directory. */
  destroy(): Promise<void>;
}

export interface PausableServer extends PrivateServer {
  /** SIGSTOP: the server keeps its sockets open but answers nothing (a hung server). */
  pause(): void;
  resume(): void;
}

export interface PrivateServers {
  redis: PausableServer;
  nats: PausableServer;
  postgres: PrivateServer;
  /** The URLs `startTestSystem` takes; the Postgres one names the server's `postgres` database. */
  urls: { postgresUrl: string; redisUrl: string; natsUrl: string };
  destroy(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;
const live = new Set<PrivateServer>();

/** All three, started in parallel. */
export async function startPrivateServers(): Promise<PrivateServers> {
  const [redis, nats, postgres] = await Promise.all([startPrivateRedis(), startPrivateNats(), startPrivatePostgres()]);
  return {
    redis,
    nats,
    postgres,
    urls: { postgresUrl: postgres.url, redisUrl: redis.url, natsUrl: nats.url },
    destroy: async () => {
      await Promise.all([redis.destroy(), nats.destroy(), postgres.destroy()]);
    },
  };
}

export interface PrivateRedisOptions {
  /**
   * Keeps the data across a clean stop: `stop()` (SIGTERM) saves an RDB snapshot to the
   * server's directory and `start()` loads it. `kill()` saves nothing, like a crash.
   */
  persistent?: boolean;
}

/** `redis-server`, by default without persistence: a restart comes back empty, like a cache node replaced. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PausableServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'private-redis-'));
  // No save points either way; `persistent` saves on SIGTERM only.
  const onSigterm = options.persistent ? ['--shutdown-on-sigterm', 'save'] : [];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...onSigterm];
  const server = new ProcessServer(
    'redis',
    port,
    `redis://127.0.0.1:${port}`,
    dir,
    () => spawn('redis-server', args, { stdio: 'ignore' }),
    () => redisAnswers(port),
  );
  await server.start();
  return server;
}

export interface PrivateNatsOptions {
  /** A server configuration file (`-c`), e.g. the shipped one with its per-service users. */
  configFile?: string;
  /** Added to the server's environment: the configuration's `$VARIABLES` (passwords) are read from it. */
  env?: NodeJS.ProcessEnv;
}

/** `nats-server -js` with its store in a directory of its own: streams and their messages survive a restart. */
export async function startPrivateNats(options: PrivateNatsOptions = {}): Promise<PausableServer> {
  const [port, monitorPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'private-nats-'));
  const config = options.configFile ? ['-c', options.configFile] : [];
  // Flags after `-c` win over the file: the port, address and store are the test's own.
  const args = [...config, '-js', '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-sd', dir];
  const server = new ProcessServer(
    'nats',
    port,
    `nats://127.0.0.1:${port}`,
    dir,
    () => spawn('nats-server', args, { stdio: 'ignore', env: { ...process.env, ...options.env } }),
    () => natsAnswers(monitorPort),
  );
  await server.start();
  return server;
}

export interface PrivatePostgresOptions {
  /**
   * Serve TLS with this certificate and key (PEM files), and refuse plaintext connections
   * (`hostssl` only), like a managed service that enforces TLS. The server's `url` then asks
   * for `sslmode=require`.
   */
  tls?: { certFile: string; keyFile: string };
}

/**
 * A PostgreSQL cluster made by `initdb` (trust authentication), run by `pg_ctl`. initdb and
 * the server refuse to run as root, so as root both run as the `postgres` user, in a
 * directory that user owns.
 */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivateServer> {
  const port = await freePort();
  const bin = postgresBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'private-postgres-'));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const { uid, gid } = await postgresUser();
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  const pgRun = (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, command), ...args]) : run(join(bin, command), args);
  await pgRun('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  let tlsSettings = '';
  if (options.tls) {
    // The server reads its key only when the server's user owns it and nobody else may read it.
    const owner = asRoot ? await postgresUser() : undefined;
    for (const [source, name] of [
      [options.tls.certFile, 'server.crt'],
      [options.tls.keyFile, 'server.key'],
    ]) {
      copyFileSync(source, join(dir, name));
      if (owner) chownSync(join(dir, name), owner.uid, owner.gid);
      chmodSync(join(dir, name), 0o600);
    }
    writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhostssl all all 127.0.0.1/32 trust\n');
    tlsSettings = ` -c ssl=on -c ssl_cert_file=${join(dir, 'server.crt')} -c ssl_key_file=${join(dir, 'server.key')}`;
  }
  const server = new PostgresServer(port, dir, data, pgRun, tlsSettings);
  await server.start();
  return server;
}

export class ProcessServer implements PausableServer {
  private child: ChildProcess | undefined;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly url: string,
    private readonly dir: string,
    private readonly launch: () => ChildProcess,
    private readonly answers: () => Promise<boolean>,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const child = this.launch();
    this.child = child;
    live.add(this);
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`${this.name} on port ${this.port} exited with ${child.exitCode}`);
        return this.answers();
      },
      Boolean,
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 50, what: `${this.name} on port ${this.port} to answer` },
    );
  }

  stop(): Promise<void> {
    return this.end('SIGTERM');
  }

  kill(): Promise<void> {
    return this.end('SIGKILL');
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async destroy(): Promise<void> {
    await this.kill();
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** For the exit hook: synchronous, best effort. */
  killNow(): void {
    if (this.running) this.child?.kill('SIGKILL');
  }
}

class PostgresServer implements PrivateServer {
  readonly name = 'postgres';
  readonly url: string;
  private started = false;

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly data: string,
    private readonly pgRun: (command: string, args: string[]) => Promise<unknown>,
    private readonly tlsSettings = '',
  ) {
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres${tlsSettings ? '?sslmode=require' : ''}`;
  }

  get running(): boolean {
    return this.started;
  }

  async start(): Promise<void> {
    if (this.started) return;
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200${this.tlsSettings}`;
    await this.pgRun('pg_ctl', ['-D', this.data, '-l', join(this.dir, 'server.log'), '-w', '-t', '30', '-o', options, 'start']);
    this.started = true;
    live.add(this);
    await eventually(() => postgresAnswers(this.url), Boolean, {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 50,
      what: `postgres on port ${this.port} to answer`,
    });
  }

  stop(): Promise<void> {
    return this.end('fast');
  }

  kill(): Promise<void> {
    return this.end('immediate');
  }

  async destroy(): Promise<void> {
    await this.kill();
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async end(mode: 'fast' | 'immediate'): Promise<void> {
    if (!this.started) return;
    await this.pgRun('pg_ctl', ['-D', this.data, '-m', mode, '-w', 'stop']);
    this.started = false;
  }

  killNow(): void {
    if (!this.started) return;
    // Best effort at process exit: the postmaster's pid is the first line of postmaster.pid.
    try {
      const pidFile = join(this.data, 'postmaster.pid');
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
        if (pid > 0) process.kill(pid, 'SIGQUIT');
      }
    } catch {
      // already gone
    }
  }
}

process.once('exit', () => {
  for (const server of live) (server as ProcessServer | PostgresServer).killNow();
});

function postgresBinaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL binaries under ${root}`);
  versions.sort((a, b) => Number(b) - Number(a));
  return join(root, versions[0], 'bin');
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

async function redisAnswers(port: number): Promise<boolean> {
  const probe = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    if (probe.status !== 'end') probe.disconnect();
  }
}

async function natsAnswers(monitorPort: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`);
    return response.ok;
  } catch {
    return false;
  }
}

async function postgresAnswers(url: string): Promise<boolean> {
  // A TLS-only server (sslmode=require in its url): encrypted, its self-made certificate unchecked.
  const tls = new URL(url).searchParams.has('sslmode');
  const connectionString = url.replace(/\?.*$/, '');
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 1_000, ssl: tls ? { rejectUnauthorized: false } : false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
