import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { answeredFromCache, freePort, GATEWAY_VERIFY_MISSES } from '@app/testing';
import { SETTLE_MS } from '../../apps/gateway/src/auth/invalidation-log.js';
import {
  callChatbot,
  createChatbotKey,
  serviceProcess,
  startFaultWorld,
  statusAndCode,
  timed,
  type FaultWorld,
  type Tenant,
} from './fault-kit.js';

const UPSTREAM_TIMEOUT_MS = 1_000;
const UPSTREAM_CONNECTIONS = 4;

type Mode = 'answer' | 'hang' | 'reset';

/** The chatbot upstream, misbehaving on demand; it counts the requests it holds unanswered. */
class FaultyUpstream {
  mode: Mode = 'answer';
  requestsInProgress = 0;
  maxRequestsInProgress = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();

  constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    const server = createServer((request, response) => {
      if (this.mode === 'reset') return void request.socket.destroy();
      if (this.mode === 'hang') {
        this.hanging.add(response);
        this.requestsInProgress += 1;
        this.maxRequestsInProgress = Math.max(this.maxRequestsInProgress, this.requestsInProgress);
        response.once('close', () => {
          this.hanging.delete(response);
          this.requestsInProgress -= 1;
        });
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, path: request.url }));
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  /** Dead: nothing listens on the port any more, and every open socket is cut. */
  async close(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.hanging.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
    this.server = undefined;
  }

  resetCounters(): void {
    this.maxRequestsInProgress = this.requestsInProgress;
  }
}

/** Established TCP sockets `pid` holds whose local or remote port is `port`, from /proc (socket inodes of its descriptors). */
function socketsOn(pid: number, side: 'local' | 'remote', port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const column = side === 'local' ? 1 : 2;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 9 && fields[column].endsWith(hexPort) && fields[3] === '01' && inodes.has(fields[9])).length;
}

/**
 * What the kernel says the gateway process holds: resident memory, and open descriptors other
 * than the test client's own keep-alive connections to it (those come and go with the client).
 */
function processFootprint(pid: number, gatewayPort: number): { rssMb: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { rssMb: rssKb / 1024, fds: readdirSync(`/proc/${pid}/fd`).length - socketsOn(pid, 'local', gatewayPort) };
}

/**
 * The chatbot upstream is slow (never answers), resets connections, or is dead. The gateway
 * answers 504 upstream_timeout or 502 upstream_unavailable within its timeout, holds at most
 * UPSTREAM_CONNECTIONS sockets to the upstream, and neither memory nor descriptors grow with
 * the number of stuck requests: nothing queues without bound.
 */
describe('fault: upstream slow or dead', () => {
  let world: FaultWorld;
  let upstream: FaultyUpstream;
  let tenant: Tenant;
  let chatbotId: string;
  let key: string;
  let gatewayPid: number;
  let gatewayPort: number;

  beforeAll(async () => {
    upstream = new FaultyUpstream(await freePort());
    await upstream.listen();
    world = await startFaultWorld({
      UPSTREAM_URL: upstream.url,
      UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
      UPSTREAM_CONNECTIONS: String(UPSTREAM_CONNECTIONS),
    });
    tenant = await world.client.provision('standard', ['Support bot']);
    chatbotId = tenant.chatbots[0].id;
    key = (await createChatbotKey(world.client, tenant, chatbotId)).key;
    // A reply about a key created moments ago is used but not cached (SETTLE_MS): the bursts below meet a cached key.
    const cachedUse = await answeredFromCache(
      { metricsUrl: world.system.gatewayMetricsUrl, misses: GATEWAY_VERIFY_MISSES },
      () => callChatbot(world.client, key, chatbotId),
      { timeoutMs: SETTLE_MS + 5_000 },
    );
    expect(cachedUse.status).toBe(200);
    gatewayPid = serviceProcess(world.system, 'gateway').child.pid!;
    gatewayPort = serviceProcess(world.system, 'gateway').port;
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
    await upstream?.close();
  }, 60_000);

  /** `count` requests at once; each answer with how long it took. */
  async function burst(count: number) {
    return Promise.all(Array.from({ length: count }, () => timed(() => callChatbot(world.client, key, chatbotId))));
  }

  it('answers 504 within the timeout for every request to a hung upstream, with bounded sockets and memory', async () => {
    expect((await callChatbot(world.client, key, chatbotId)).status).toBe(200);
    // Same bursts against a healthy upstream first: the client's keep-alive sockets to the gateway are then already counted.
    for (let warm = 0; warm < 3; warm++) await burst(100);
    const before = processFootprint(gatewayPid, gatewayPort);

    upstream.mode = 'hang';
    upstream.resetCounters();
    let maxSockets = 0;
    const sampler = setInterval(() => (maxSockets = Math.max(maxSockets, socketsOn(gatewayPid, 'remote', upstream.port))), 20);
    // Far more stuck requests than connections: each must still be answered in time, not queued behind the rest.
    for (let wave = 0; wave < 3; wave++) {
      const started = Date.now();
      const answers = await burst(100);
      const statuses = new Set(answers.map(({ value }) => statusAndCode(value)));
      expect(statuses).toEqual(new Set(['504 upstream_timeout']));
      expect(Math.max(...answers.map(({ ms }) => ms))).toBeLessThan(UPSTREAM_TIMEOUT_MS + 2_000);
      expect(Date.now() - started).toBeLessThan(UPSTREAM_TIMEOUT_MS + 3_000);
    }
    clearInterval(sampler);
    expect(maxSockets).toBeGreaterThan(0);
    expect(maxSockets).toBeLessThanOrEqual(UPSTREAM_CONNECTIONS);
    expect(upstream.maxRequestsInProgress).toBe(UPSTREAM_CONNECTIONS);

    upstream.mode = 'answer';
    expect((await callChatbot(world.client, key, chatbotId)).status).toBe(200);
    const after = processFootprint(gatewayPid, gatewayPort);
    expect(after.rssMb - before.rssMb).toBeLessThan(60);
    expect(after.fds - before.fds).toBeLessThanOrEqual(UPSTREAM_CONNECTIONS + 2);
  }, 60_000);

  it('answers 502 at once when the upstream resets or is dead, and 200 again when it is back', async () => {
    upstream.mode = 'reset';
    for (const { value, ms } of await burst(20)) {
      expect(statusAndCode(value)).toBe('502 upstream_unavailable');
      expect(ms).toBeLessThan(UPSTREAM_TIMEOUT_MS);
    }

    await upstream.close();
    for (const { value, ms } of await burst(20)) {
      expect(statusAndCode(value)).toBe('502 upstream_unavailable');
      expect(ms).toBeLessThan(UPSTREAM_TIMEOUT_MS);
    }

    upstream.mode = 'answer';
    await upstream.listen();
    const answers = await burst(20);
    expect(answers.map(({ value }) => value.status)).toEqual(Array(20).fill(200));
  }, 30_000);
});
