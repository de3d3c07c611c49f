import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiError } from '@app/common';
import { eventually } from '@app/testing';
import { UpstreamClient, type ForwardOutcome } from './upstream-client.js';

/**
 * The relay on its own: a real upstream and a real front server whose handler is `sut.forward`,
 * so client behaviour (reading slowly, leaving early) is the real thing.
 */
const BIG = Buffer.alloc(8 * 1024 * 1024, 'x');
let upstreamClosed: string[] = [];
let upstreamArrived: string[] = [];
let upstream: Server;
let front: Server;
let sut: UpstreamClient;
let outcomes: (ForwardOutcome | string)[] = [];

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    upstreamArrived.push(req.url!);
    res.once('close', () => upstreamClosed.push(`${req.url} ${res.writableFinished ? 'finished' : 'cut'}`));
    if (req.url === '/big') return void res.writeHead(200, { 'content-length': BIG.length }).end(BIG);
    if (req.url === '/hang') return; // never answers
    if (req.url === '/drip') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      return; // keeps the stream open
    }
    res.writeHead(207, { 'x-upstream': 'yes', connection: 'keep-alive', 'set-cookie': ['a=1', 'b=2'] }).end('hello');
  });
  const upstreamPort = await listen(upstream);
  sut = new UpstreamClient({ url: `http://127.0.0.1:${upstreamPort}`, connections: 4, timeoutMs: 5_000 });
  front = createServer((req: IncomingMessage, res: ServerResponse) => {
    sut
      .forward({ method: req.method!, pathAndQuery: req.url!, headers: {}, body: null, requestId: 'req-1' }, res, () => undefined)
      .then(
        (outcome) => outcomes.push(outcome),
        (error: unknown) => {
          outcomes.push(error instanceof ApiError ? error.code : String(error));
          res.writeHead(502).end();
        },
      );
  });
  await listen(front);
});

afterAll(async () => {
  await sut.close();
  await new Promise((resolve) => front.close(resolve));
  await new Promise((resolve) => upstream.close(resolve));
});

function get(path: string): Promise<IncomingMessage> {
  const { port } = front.address() as AddressInfo;
  return new Promise((resolve, reject) => httpRequest({ port, path, host: '127.0.0.1' }, resolve).on('error', reject).end());
}

/** The sockets are real, so their events are awaited: a condition polled, never a fixed delay. */
function until(condition: () => boolean): Promise<boolean> {
  return eventually(async () => condition(), Boolean, { timeoutMs: 3_000, intervalMs: 5 });
}

describe('UpstreamClient', () => {
  it('relays status, headers (minus hop-by-hop, with the request id) and body, and resolves with the status', async () => {
    outcomes = [];
    const answer = await get('/plain');
    const chunks: Buffer[] = [];
    for await (const chunk of answer) chunks.push(chunk as Buffer);
    expect(answer.statusCode).toBe(207);
    expect(answer.headers['x-upstream']).toBe('yes');
    expect(answer.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(answer.headers['x-request-id']).toBe('req-1');
    expect(Buffer.concat(chunks).toString()).toBe('hello');
    expect(outcomes).toEqual([207]);
  });

  it('relays a body larger than every buffer to a slow reader, byte for byte', async () => {
    const answer = await get('/big');
    let length = 0;
    for await (const chunk of answer) {
      length += (chunk as Buffer).length;
      // A reader slower than the relay (pacing, not waiting for anything): the buffers fill up.
      if (length < 1024 * 1024) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(length).toBe(BIG.length);
  });

  it('resolves null and cancels the upstream request when the client leaves before the answer', async () => {
    outcomes = [];
    upstreamClosed = [];
    upstreamArrived = [];
    const { port } = front.address() as AddressInfo;
    const request = httpRequest({ port, path: '/hang', host: '127.0.0.1' }).on('error', () => undefined);
    request.end();
    await until(() => upstreamArrived.includes('/hang'));
    request.destroy();
    await until(() => outcomes.length === 1 && upstreamClosed.length === 1);
    expect(outcomes).toEqual([null]);
    expect(upstreamClosed).toEqual(['/hang cut']);
  });

  it('cuts the upstream stream when the client leaves in the middle of it', async () => {
    upstreamClosed = [];
    const answer = await get('/drip');
    await new Promise((resolve) => answer.once('data', resolve));
    answer.destroy();
    await until(() => upstreamClosed.length === 1);
    expect(upstreamClosed).toEqual(['/drip cut']);
  });
});
