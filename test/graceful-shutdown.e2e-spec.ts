import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, freePort, startTestSystem, usageAllAcknowledged, type TestSystem } from '@app/testing';
import { ROOT } from '../scripts/system.mjs';
import { GatewayClient } from './client.js';

/**
 * An upstream the test controls: `/api/v1/slow` answers after SLOW_MS, the stream route sends
 * an event every 100 ms until the test ends it, everything else answers at once.
 */
class ScriptedUpstream {
  readonly arrivals: string[] = [];
  private readonly streams = new Set<ServerResponse>();
  private readonly server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    this.arrivals.push(path);
    if (path === '/api/v1/slow') return void setTimeout(() => response.end('{"slow":true}'), SLOW_MS);
    if (!path.endsWith('/stream')) return void response.end('{"ok":true}');
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    let sent = 0;
    const timer = setInterval(() => response.write(`data: ${sent++}\n\n`), 100);
    response.on('close', () => clearInterval(timer));
    (response as ServerResponse & { stopTimer?: () => void }).stopTimer = () => clearInterval(timer);
    this.streams.add(response);
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Ends every open stream with a last event. */
  finishStreams(): void {
    for (const stream of this.streams) {
      (stream as ServerResponse & { stopTimer?: () => void }).stopTimer?.();
      stream.end('data: [DONE]\n\n');
    }
    this.streams.clear();
  }

  arrived(path: string): number {
    return this.arrivals.filter((arrival) => arrival === path).length;
  }

  async stop(): Promise<void> {
    this.finishStreams();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const SLOW_MS = 1_500;

/** Reads an SSE answer to its end (or until the connection is cut), keeping what arrived. */
async function readStream(response: Response): Promise<{ text: string; complete: boolean }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, complete: true };
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    return { text, complete: false };
  }
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode, at: Date.now() });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
}

/** Whether a new TCP connection to the port is refused. */
function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('gateway shutdown on SIGTERM', () => {
  const upstream = new ScriptedUpstream();
  let system: TestSystem;
  let client: GatewayClient;
  let tenant: Awaited<ReturnType<GatewayClient['provision']>>;
  let upstreamUrl: string;
  const spawned: ChildProcess[] = [];

  beforeAll(async () => {
    upstreamUrl = await upstream.start();
    system = await startTestSystem({ UPSTREAM_URL: upstreamUrl, SHUTDOWN_GRACE_MS: '15000' });
    client = new GatewayClient(system.gatewayUrl, system.adminToken);
    tenant = await client.provision();
  }, 120_000);

  afterAll(async () => {
    for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await system?.stop();
    await upstream.stop();
  });

  /** Another gateway process on the same bus and upstream (the first one reads usage after the system's is gone). */
  async function startSecondGateway(extraEnv: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; port: number }> {
    const port = await freePort();
    const child = spawn(process.execPath, [join(ROOT, 'dist/apps/gateway/src/main.js')], {
      env: {
        ...process.env,
        NATS_URL: system.env.natsUrl,
        NATS_SUBJECT_PREFIX: system.env.subjectPrefix,
        GATEWAY_PORT: String(port),
        GATEWAY_METRICS_PORT: String(await freePort()),
        UPSTREAM_URL: upstreamUrl,
        LOG_LEVEL: 'warn',
        ...extraEnv,
      },
      stdio: 'ignore',
    });
    spawned.push(child);
    const url = `http://127.0.0.1:${port}`;
    await eventually(
      () =>
        fetch(`${url}/health/ready`).then(
          (response) => response.status,
          () => 0,
        ),
      (status) => status === 200,
      { timeoutMs: 20_000, what: 'the second gateway is ready' },
    );
    return { child, url, port };
  }

  const call = (baseUrl: string, path: string) => fetch(baseUrl + path, { headers: { authorization: `Bearer ${tenant.userKey}` } });

  it('finishes requests in flight (a stream too), refuses new connections, flushes every use and exits 0', async () => {
    const gateway = system.running.services.find((service) => service.name === 'gateway')!;
    const chatbotId = tenant.chatbots[0].id;
    for (let i = 0; i < 5; i += 1) expect((await call(system.gatewayUrl, '/api/v1/ping')).status).toBe(200);

    const stream = await call(system.gatewayUrl, `/api/v1/chatbots/${chatbotId}/stream`);
    expect(stream.status).toBe(200);
    const streamed = readStream(stream);
    const slow = [call(system.gatewayUrl, '/api/v1/slow'), call(system.gatewayUrl, '/api/v1/slow')];
    await eventually(
      async () => upstream.arrived('/api/v1/slow'),
      (count) => count === 2,
      { timeoutMs: 5_000, what: 'the slow requests reach the upstream' },
    );

    const exited = exitOf(gateway.child);
    const signalledAt = Date.now();
    gateway.child.kill('SIGTERM');

    await eventually(
      () => connectionRefused(gateway.port),
      (refused) => refused,
      { timeoutMs: 2_000, what: 'new connections are refused' },
    );
    const slowAnswers = await Promise.all(slow);
    expect(slowAnswers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(await Promise.all(slowAnswers.map((answer) => answer.json()))).toEqual([{ slow: true }, { slow: true }]);
    // Still draining: the stream holds the process up.
    expect(gateway.child.exitCode).toBeNull();

    upstream.finishStreams();
    const { text, complete } = await streamed;
    expect(complete).toBe(true);
    expect(text).toMatch(/^data: 0\n\n(data: \d+\n\n)*data: \[DONE\]\n\n$/);

    const exit = await exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - signalledAt).toBeLessThan(15_000);
    expect(system.logs()).not.toMatch(/not delivered to the usage stream/);

    // 5 quick requests, 2 slow ones and the stream were forwarded: 8 uses, each counted once.
    const reader = await startSecondGateway({});
    const total = () =>
      call(reader.url, `/v1/api-keys/${tenant.userKeyId}/usage`).then(async (answer) =>
        answer.status === 200 ? ((await answer.json()) as { total: number }).total : -answer.status,
      );
    await eventually(total, (value) => value === 8, { timeoutMs: 10_000, what: 'the usage total counts every request served' });
    await usageAllAcknowledged(system.env);
    expect(await total()).toBe(8);
  }, 90_000);

  it('cuts a stream that outlives SHUTDOWN_GRACE_MS and still exits 0', async () => {
    const graceMs = 1_500;
    const gateway = await startSecondGateway({ SHUTDOWN_GRACE_MS: String(graceMs) });
    const stream = await call(gateway.url, `/api/v1/chatbots/${tenant.chatbots[0].id}/stream`);
    expect(stream.status).toBe(200);
    const streamed = readStream(stream);

    const exited = exitOf(gateway.child);
    const signalledAt = Date.now();
    gateway.child.kill('SIGTERM');

    const { text, complete } = await streamed;
    const cutAfter = Date.now() - signalledAt;
    expect(text).toMatch(/^data: 0\n\n/);
    expect(text).not.toContain('[DONE]');
    expect(complete).toBe(false);
    expect(cutAfter).toBeGreaterThanOrEqual(graceMs - 100);
    const exit = await exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - signalledAt).toBeLessThan(graceMs + 8_000);
  }, 60_000);
});
