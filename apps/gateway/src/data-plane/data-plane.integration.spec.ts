import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'undici';
import { createLogger, NatsBus } from '@app/common';
import { generateApiKey, hashApiKey, QueueGroups, type VerifyReply, verifyWireReply } from '@app/contracts';
import { deleteRunUsageStream, httpRequest, testEnvironment, type HttpAnswer } from '@app/testing';
import { loadGatewayConfig } from '../config.js';
import { startGateway } from '../gateway.js';

/**
 * The gateway in-process against real NATS, a real HTTP upstream written here, and an
 * `auth.verify` responder on this run's own subject prefix (the real verifier is covered end to end).
 */
const env = testEnvironment();
const logger = createLogger('gateway-test', 'silent');

const chatbotKey = generateApiKey('chatbot');
const userKey = generateApiKey('user');
type Holder = { keyId: string; type: 'chatbot' | 'user'; chatbotId: string | null; userId: string | null };
const keys = new Map<string, Holder>([
  [chatbotKey, { keyId: 'key-cb', type: 'chatbot', chatbotId: 'bot-1', userId: null }],
  [userKey, { keyId: 'key-user', type: 'user', chatbotId: null, userId: 'user-1' }],
]);
const accountChatbots = new Set(['bot-1', 'bot-2']);

/** The verifier's decision rules (docs/api.md, NATS subjects), over the table above. */
function decide(key: string, chatbotId: string | undefined): VerifyReply {
  const holder = keys.get(key);
  if (!holder) return { valid: false, code: 'invalid_api_key' };
  const verified = {
    keyId: holder.keyId,
    type: holder.type,
    accountId: 'acc-1',
    chatbotId: chatbotId ?? null,
    userId: holder.userId,
    rateLimit: null,
  };
  const inReach = holder.type === 'chatbot' ? chatbotId === holder.chatbotId : chatbotId === undefined || accountChatbots.has(chatbotId);
  return inReach ? { valid: true, allowed: true, ...verified } : { valid: true, allowed: false, code: 'insufficient_scope', ...verified };
}

let verifier: NatsBus;
const verifyRequests: { key: string; chatbotId?: string }[] = [];
let verifierSilent = false;

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
const seen: Seen[] = [];
let releaseSecondChunk: () => void = () => undefined;
let upstream: Server;

function startUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url!.endsWith('/stream')) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-upstream': 'sse' });
        res.write('data: first\n\n');
        // The second chunk waits for the test to have received the first one.
        releaseSecondChunk = () => {
          res.write('data: second\n\n');
          setTimeout(() => res.end('data: done\n\n'), 50);
        };
        return;
      }
      if (req.url!.endsWith('/slow')) return void setTimeout(() => res.writeHead(200).end('late'), 1_500).unref();
      if (req.url!.endsWith('/reset')) return void req.socket.destroy();
      if (req.url!.endsWith('/nothing')) return void res.writeHead(204, { 'x-upstream': 'empty' }).end();
      const answer = JSON.stringify({ echoed: true });
      res.writeHead(201, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(answer),
        'set-cookie': ['a=1', 'b=2'],
        'x-upstream': 'echo',
      });
      res.end(answer);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const JSON_TYPE = { 'content-type': 'application/json' };

async function gatewayFor(
  upstreamUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<{ app: NestFastifyApplication; client: Client }> {
  const config = loadGatewayConfig({
    GATEWAY_PORT: '0',
    GATEWAY_METRICS_PORT: '0',
    NATS_URL: env.natsUrl,
    NATS_SUBJECT_PREFIX: env.subjectPrefix,
    REDIS_URL: env.redisUrl,
    REDIS_KEY_PREFIX: env.redisPrefix,
    UPSTREAM_URL: upstreamUrl,
    BODY_LIMIT_BYTES: '1024',
    UPSTREAM_TIMEOUT_MS: '500',
    VERIFY_TIMEOUT_MS: '300',
    LOG_LEVEL: 'silent',
    ...extraEnv,
  });
  const app = await startGateway(config, logger);
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, client: new Client(`http://127.0.0.1:${port}`) };
}

let gateway: { app: NestFastifyApplication; client: Client };

/** Sends the path byte for byte (no URL normalisation on the client side). */
function call(
  path: string,
  options: { method?: string; key?: string; headers?: Record<string, string>; body?: string } = {},
  client = gateway.client,
): Promise<HttpAnswer<IncomingHttpHeaders>> {
  return httpRequest(client, { ...options, path });
}

/**
 * A hand-written HTTP/1.1 exchange on a raw socket, for what no client library sends: a body that
 * stops arriving, headers that never end. `answer` settles with what the gateway wrote once it
 * wrote a full status line and header block, or closed; it rejects after `withinMs`.
 */
function rawExchange(port: number, withinMs: number): { socket: Socket; answer: Promise<{ text: string; closed: boolean }> } {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let text = '';
  const answer = new Promise<{ text: string; closed: boolean }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${withinMs} ms; received ${JSON.stringify(text)}`)), withinMs);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        clearTimeout(timer);
        resolve({ text, closed: false });
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
  return { socket, answer };
}

function portOf(app: NestFastifyApplication): number {
  return (app.getHttpServer().address() as AddressInfo).port;
}

/** POST /api/v1/chat with an invalid or malformed key: headers and 64 KiB of a declared 10 MB body, never the rest. */
async function refusesBeforeTheBody(port: number): Promise<void> {
  for (const credential of [`Bearer ${generateApiKey('chatbot')}`, `Bearer ${chatbotKey.slice(0, -2)}zz`]) {
    const { socket, answer } = rawExchange(port, 5_000);
    socket.write(
      'POST /api/v1/chat HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n' +
        `Authorization: ${credential}\r\nContent-Length: 10000000\r\n\r\n`,
    );
    // A first slice of the body only: the rest never comes, so an answer proves the body was not awaited.
    socket.write(`{"chatbotId":"bot-1","message":"${'x'.repeat(64 * 1024)}`);
    const { text } = await answer;
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 401 /);
    expect(text.toLowerCase()).toContain('connection: close');
  }
}

function lastSeen(): Seen {
  return seen[seen.length - 1];
}

beforeAll(async () => {
  verifier = await NatsBus.connect({ url: env.natsUrl, subjectPrefix: env.subjectPrefix, name: 'test-verifier', logger });
  verifier.serve(
    'authVerify',
    QueueGroups.authVerifier,
    async (request) => {
      verifyRequests.push(request);
      // A stand-in verifier that answers too late: a time by design (past the gateway's verify timeout), not a wait.
      if (verifierSilent) await new Promise((resolve) => setTimeout(resolve, 1_000));
      return decide(request.key, request.chatbotId);
    },
    { reply: verifyWireReply },
  );
  await verifier.connection.flush();
  upstream = await startUpstream();
  gateway = await gatewayFor(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
});

afterAll(async () => {
  await gateway?.client.close();
  await gateway?.app.close();
  await verifier?.close();
  await new Promise((resolve) => upstream?.close(resolve));
  await deleteRunUsageStream(env);
});

describe('data plane (gateway in-process, real NATS and upstream)', () => {
  it('forwards a chatbot route with the credential and spoofed identity replaced by the verified one', async () => {
    const answer = await call('/api/v1/chatbots/bot-1/messages?page=2&q=a%2Fb', {
      method: 'POST',
      key: chatbotKey,
      headers: {
        'x-api-key': chatbotKey,
        'x-account-id': 'acc-evil',
        'x-chatbot-id': 'bot-2',
        'x-api-key-id': 'forged',
        'x-api-key-type': 'user',
        'x-user-id': 'admin',
        'x-request-id': 'req-123',
        'x-custom': 'kept',
        'content-type': 'text/plain',
      },
      body: 'hello',
    });
    expect(answer.status).toBe(201);
    expect(answer.json).toEqual({ echoed: true });
    expect(answer.headers['x-upstream']).toBe('echo');
    expect(answer.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(answer.headers['x-request-id']).toBe('req-123');
    const forwarded = lastSeen();
    expect(forwarded).toMatchObject({ method: 'POST', url: '/api/v1/chatbots/bot-1/messages?page=2&q=a%2Fb', body: 'hello' });
    expect(forwarded.headers).toMatchObject({
      'x-account-id': 'acc-1',
      'x-chatbot-id': 'bot-1',
      'x-api-key-id': 'key-cb',
      'x-api-key-type': 'chatbot',
      'x-request-id': 'req-123',
      'x-custom': 'kept',
      'content-type': 'text/plain',
    });
    expect(forwarded.headers.authorization).toBeUndefined();
    expect(forwarded.headers['x-api-key']).toBeUndefined();
    expect(forwarded.headers['x-user-id']).toBeUndefined();
  });

  it('forwards an account route for a user-level key without X-Chatbot-Id and with X-User-Id', async () => {
    const answer = await call('/api/v1/account/usage', { headers: { 'x-api-key': userKey, 'x-chatbot-id': 'bot-2' } });
    expect(answer.status).toBe(201);
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lastSeen().headers).toMatchObject({ 'x-account-id': 'acc-1', 'x-user-id': 'user-1', 'x-api-key-type': 'user' });
    expect(lastSeen().headers['x-chatbot-id']).toBeUndefined();
    expect(lastSeen().headers['x-request-id']).toBe(answer.headers['x-request-id']);
  });

  it('judges and forwards the same normalised path', async () => {
    await call('/api/v1/chatbots/bot-2/..//bot-1/./info', { key: chatbotKey });
    expect(lastSeen().url).toBe('/api/v1/chatbots/bot-1/info');
    const climbing = await call('/api/v1/chatbots/bot-1/../bot-2/info', { key: chatbotKey });
    expect(climbing.status).toBe(403);
    expect(climbing.json.error.code).toBe('insufficient_scope');
  });

  it('reads the chatbot id of POST /api/v1/chat from the JSON body and forwards the exact bytes', async () => {
    const body = '{ "chatbotId" : "bot-1",  "message": "hi" }';
    const answer = await call('/api/v1/chat', { method: 'POST', key: chatbotKey, body, headers: { 'content-type': 'application/json' } });
    expect(answer.status).toBe(201);
    expect(lastSeen().body).toBe(body);
    expect(lastSeen().headers['x-chatbot-id']).toBe('bot-1');
    const other = await call('/api/v1/chat', { method: 'POST', key: chatbotKey, body: '{"chatbotId":"bot-2"}', headers: JSON_TYPE });
    expect(other.status).toBe(403);
  });

  it('streams bodies it does not need to read, whatever their size', async () => {
    const big = 'x'.repeat(50_000);
    const answer = await call('/api/v1/chatbots/bot-1/files', { method: 'PUT', key: chatbotKey, body: big });
    expect(answer.status).toBe(201);
    expect(lastSeen().body).toBe(big);
  });

  it('relays a server-sent-events answer chunk by chunk', async () => {
    const answer = await gateway.client.request({
      path: '/api/v1/chatbots/bot-1/stream',
      method: 'GET',
      headers: { authorization: `Bearer ${chatbotKey}`, accept: 'text/event-stream' },
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('text/event-stream');
    const chunks = answer.body[Symbol.asyncIterator]();
    // The upstream has sent only the first event; it sends the next once this one has arrived.
    const first = await Promise.race([
      chunks.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('first chunk was held back')), 2_000)),
    ]);
    expect(Buffer.from(first.value).toString()).toBe('data: first\n\n');
    releaseSecondChunk();
    let rest = '';
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) rest += Buffer.from(next.value).toString();
    expect(rest).toBe('data: second\n\ndata: done\n\n');
  });

  it('answers 502 when the upstream resets, and 504 when it is too slow', async () => {
    const reset = await call('/api/v1/chatbots/bot-1/reset', { key: chatbotKey });
    expect(reset.status).toBe(502);
    expect(reset.json.error).toMatchObject({ code: 'upstream_unavailable', requestId: reset.headers['x-request-id'] });
    const slow = await call('/api/v1/chatbots/bot-1/slow', { key: chatbotKey });
    expect(slow.status).toBe(504);
    expect(slow.json.error.code).toBe('upstream_timeout');
  });

  it('answers 502 when the upstream refuses connections', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await gatewayFor(`http://127.0.0.1:${port}`);
    try {
      const answer = await call('/api/v1/chatbots/bot-1/x', { key: chatbotKey }, refused.client);
      expect(answer.status).toBe(502);
      expect(answer.json.error.code).toBe('upstream_unavailable');
    } finally {
      await refused.client.close();
      await refused.app.close();
    }
  });

  it('relays bodiless answers (204, HEAD) unchanged', async () => {
    const empty = await call('/api/v1/chatbots/bot-1/nothing', { method: 'DELETE', key: chatbotKey });
    expect([empty.status, empty.headers['x-upstream'], empty.text]).toEqual([204, 'empty', '']);
    const head = await call('/api/v1/chatbots/bot-1/info', { method: 'HEAD', key: chatbotKey });
    expect([head.status, head.headers['content-length'], head.text]).toEqual([201, '15', '']);
    expect(lastSeen().method).toBe('HEAD');
  });

  it('answers 404 in the contract shape for paths outside any route', async () => {
    for (const path of ['/api/v2/chat', '/nowhere']) {
      const answer = await call(path, { key: userKey });
      expect([path, answer.status, answer.json?.error?.code]).toEqual([path, 404, 'not_found']);
      expect(answer.json.error.requestId).toBe(answer.headers['x-request-id']);
    }
  });

  it('answers 413 for a read body over the limit and 400 for malformed JSON or a missing chatbot id', async () => {
    const tooBig = await call('/api/v1/chat', {
      method: 'POST',
      key: chatbotKey,
      body: JSON.stringify({ chatbotId: 'bot-1', m: 'x'.repeat(2_000) }),
      headers: JSON_TYPE,
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.json.error.code).toBe('payload_too_large');
    for (const body of ['{"chatbotId": "bot-1"', '{}', '{"chatbotId": 7}', '']) {
      const answer = await call('/api/v1/chat', { method: 'POST', key: chatbotKey, body, headers: JSON_TYPE });
      expect([body, answer.status, answer.json.error.code]).toEqual([body, 400, 'invalid_request']);
    }
    const emptyId = await call('/api/v1/chatbots/', { key: userKey });
    expect(emptyId.status).toBe(400);
  });

  it('refuses traversal and encoded separators with 400 before anything is forwarded', async () => {
    const before = seen.length;
    for (const path of [
      '/api/v1/chatbots/bot-1/%2e%2e/bot-2',
      '/api/v1/chatbots/bot-1%2f..%2fbot-2',
      '/api/v1/chatbots/bot-1/%252e%252e/bot-2',
      '/api/v1/chatbots/bot-1%5cbot-2',
      '/api/v1/../../v1/api-keys',
      '/api/v1/../../../../etc/passwd',
    ]) {
      const answer = await call(path, { key: userKey });
      expect([path, answer.status, answer.json?.error?.code]).toEqual([path, 400, 'invalid_request']);
    }
    expect(seen.length).toBe(before);
  });

  it('answers 401 for a missing key, a key in the query string, an unknown key, and a malformed one without asking NATS', async () => {
    const missing = await call('/api/v1/chatbots/bot-1/x', { method: 'PUT', body: 'x'.repeat(100_000) });
    expect([missing.status, missing.json.error.code]).toEqual([401, 'missing_api_key']);
    const inQuery = await call(`/api/v1/chatbots/bot-1/x?api_key=${chatbotKey}&key=${chatbotKey}`);
    expect(inQuery.json.error.code).toBe('missing_api_key');
    const unknown = await call('/api/v1/chatbots/bot-1/x', { key: generateApiKey('chatbot') });
    expect([unknown.status, unknown.json.error.code]).toEqual([401, 'invalid_api_key']);
    const asked = verifyRequests.length;
    const malformed = await call('/api/v1/chatbots/bot-1/x', { key: chatbotKey.slice(0, -2) + 'zz' });
    expect([malformed.status, malformed.json.error.code]).toEqual([401, 'invalid_api_key']);
    expect(verifyRequests.length).toBe(asked);
  });

  it('answers 403 insufficient_scope for a chatbot key on another chatbot or an account route', async () => {
    for (const path of ['/api/v1/chatbots/bot-2/x', '/api/v1/chatbots/no-such-bot', '/api/v1/account']) {
      const answer = await call(path, { key: chatbotKey });
      expect([path, answer.status, answer.json.error.code]).toEqual([path, 403, 'insufficient_scope']);
    }
  });

  it('fails closed with 503 when nothing answers auth.verify', async () => {
    verifierSilent = true;
    try {
      const answer = await call('/api/v1/chatbots/bot-2/x', { key: userKey });
      expect([answer.status, answer.json.error.code]).toEqual([503, 'auth_unavailable']);
    } finally {
      verifierSilent = false;
    }
  });

  it('drops a cached key within moments of its revocation event', async () => {
    const key = generateApiKey('chatbot');
    keys.set(key, { keyId: 'key-revoked', type: 'chatbot', chatbotId: 'bot-1', userId: null });
    expect((await call('/api/v1/chatbots/bot-1/x', { key })).status).toBe(201);
    keys.delete(key);
    // Still cached (TTL 30 s): the verifier is not asked again.
    const asked = verifyRequests.length;
    expect((await call('/api/v1/chatbots/bot-1/x', { key })).status).toBe(201);
    expect(verifyRequests.length).toBe(asked);
    verifier.publish('keyRevoked', { keyId: 'key-revoked', keyHash: hashApiKey(key), accountId: 'acc-1', chatbotId: 'bot-1' });
    const revokedAt = Date.now();
    let status = 201;
    while (status === 201 && Date.now() - revokedAt < 1_000) {
      status = (await call('/api/v1/chatbots/bot-1/x', { key })).status;
    }
    expect(status).toBe(401);
  });

  it('answers a refused credential while a 10 MB body is still arriving, and closes the connection', async () => {
    // The default 10 MiB body limit: a 10 MB body is one the gateway would read for a valid key.
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const roomy = await gatewayFor(upstreamUrl, { BODY_LIMIT_BYTES: String(10 * 1024 * 1024) });
    try {
      await refusesBeforeTheBody(portOf(roomy.app));
    } finally {
      await roomy.client.close();
      await roomy.app.close();
    }
  });

  it('closes a connection whose headers, or whose judged body, do not arrive in time', async () => {
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const strict = await gatewayFor(upstreamUrl, { HTTP_HEADERS_TIMEOUT_MS: '300', HTTP_REQUEST_TIMEOUT_MS: '800' });
    try {
      const slowHeaders = rawExchange(portOf(strict.app), 3_000);
      slowHeaders.socket.write('GET /api/v1/chatbots/bot-1/x HTTP/1.1\r\nHost: gateway\r\n');
      const startedAt = Date.now();
      const headersAnswer = await slowHeaders.answer;
      expect([headersAnswer.closed || /^HTTP\/1\.1 400 /.test(headersAnswer.text), Date.now() - startedAt < 2_000]).toEqual([true, true]);
      slowHeaders.socket.destroy();

      const slowBody = rawExchange(portOf(strict.app), 3_000);
      slowBody.socket.write(
        'POST /api/v1/chat HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n' +
          `Authorization: Bearer ${chatbotKey}\r\nContent-Length: 1000\r\n\r\n{"chatbotId":`,
      );
      const bodyAnswer = await slowBody.answer;
      expect(bodyAnswer.closed || /^HTTP\/1\.1 40[08] /.test(bodyAnswer.text)).toBe(true);
      slowBody.socket.destroy();
    } finally {
      await strict.client.close();
      await strict.app.close();
    }
  });

  it('reads a judged body only as UTF-8 JSON, unencoded: 415 otherwise', async () => {
    const body = '{"chatbotId":"bot-1"}';
    const refused: Record<string, string>[] = [
      {},
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'application/json; charset=utf-16' },
      { 'content-type': 'application/json-patch+json' },
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      { 'content-type': 'application/json', 'content-encoding': 'identity, gzip' },
    ];
    for (const headers of refused) {
      const answer = await call('/api/v1/chat', { method: 'POST', key: chatbotKey, body, headers });
      expect([headers, answer.status, answer.json?.error?.code]).toEqual([headers, 415, 'unsupported_media_type']);
    }
    for (const type of ['application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"']) {
      const answer = await call('/api/v1/chat', {
        method: 'POST',
        key: chatbotKey,
        body,
        headers: { 'content-type': type, 'content-encoding': 'identity' },
      });
      expect([type, answer.status]).toEqual([type, 201]);
    }
  });

  it('refuses the chatbot id field in another case or in the query string, which lenient binders read', async () => {
    const before = seen.length;
    for (const [path, body] of [
      ['/api/v1/chat', '{"chatbotId":"bot-1","ChatbotId":"bot-2"}'],
      ['/api/v1/chat', '{"chatbotId":"bot-1","CHATBOTID":"bot-2"}'],
      ['/api/v1/chat', '{"chatbotid":"bot-2"}'],
      ['/api/v1/chat?chatbotId=bot-2', '{"chatbotId":"bot-1"}'],
      ['/api/v1/chat?ChatBotID=bot-2', '{"chatbotId":"bot-1"}'],
      ['/api/v1/chat?chatbot%49d=bot-2', '{"chatbotId":"bot-1"}'],
      ['/api/v1/chat?chatbotId[]=bot-2', '{"chatbotId":"bot-1"}'],
    ]) {
      const answer = await call(path, { method: 'POST', key: chatbotKey, body, headers: JSON_TYPE });
      expect([path, body, answer.status, answer.json?.error?.code]).toEqual([path, body, 400, 'invalid_request']);
    }
    expect(seen.length).toBe(before);
  });

  it('refuses ";" anywhere in the path, matches route literals in any case, and names the chatbot in lower case', async () => {
    const before = seen.length;
    for (const path of [
      '/api/v1/chatbots/bot-2/..;/bot-1/x',
      '/api/v1/chatbots/bot-1;jsessionid=1/x',
      '/api/v1;/chatbots/bot-1',
      '/api/v1/chatbots/bot-1/%3b',
    ]) {
      const answer = await call(path, { key: chatbotKey });
      expect([path, answer.status, answer.json?.error?.code]).toEqual([path, 400, 'invalid_request']);
    }
    expect(seen.length).toBe(before);
    // Case-insensitive routers (Express, ASP.NET) read these as chatbot bot-2: so does the gateway.
    for (const path of ['/API/V1/CHATBOTS/bot-2/x', '/api/v1/Chatbots/bot-2/', '/api/V1/chatbots/bot-2']) {
      const answer = await call(path, { key: chatbotKey });
      expect([path, answer.status, answer.json?.error?.code]).toEqual([path, 403, 'insufficient_scope']);
    }
    const upperCase = await call('/API/V1/CHATBOTS/BOT-1/x', { key: chatbotKey });
    expect(upperCase.status).toBe(201);
    expect(lastSeen().headers['x-chatbot-id']).toBe('bot-1');
    const chat = await call('/API/v1/Chat/', { method: 'POST', key: chatbotKey, body: '{"chatbotId":"BOT-1"}', headers: JSON_TYPE });
    expect(chat.status).toBe(201);
    expect(lastSeen().headers['x-chatbot-id']).toBe('bot-1');
    expect(verifyRequests.some((request) => request.chatbotId !== undefined && request.chatbotId !== request.chatbotId.toLowerCase())).toBe(
      false,
    );
  });

  it('never forwards identity headers spelled with "_", nor headers that reroute the request upstream', async () => {
    const answer = await call('/api/v1/chatbots/bot-1/x', {
      key: chatbotKey,
      headers: {
        x_account_id: 'acc-evil',
        X_Chatbot_Id: 'bot-2',
        'x-api_key-id': 'forged',
        x_api_key_type: 'user',
        x_user_id: 'admin',
        x_api_key: userKey,
        'x-original-url': '/api/v1/chatbots/bot-2/x',
        'x-rewrite-url': '/api/v1/chatbots/bot-2/x',
        'x-http-method-override': 'DELETE',
        x_original_url: '/api/v1/chatbots/bot-2/x',
        'x-custom_kept': 'yes',
      },
    });
    expect(answer.status).toBe(201);
    const forwarded = Object.keys(lastSeen().headers).filter((name) => name.startsWith('x'));
    // X-Forwarded-For and -Proto are the gateway's own (the client's are never passed on).
    expect(forwarded.sort()).toEqual([
      'x-account-id',
      'x-api-key-id',
      'x-api-key-type',
      'x-chatbot-id',
      'x-custom_kept',
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-request-id',
    ]);
    expect(lastSeen().headers).toMatchObject({ 'x-account-id': 'acc-1', 'x-chatbot-id': 'bot-1', 'x-api-key-type': 'chatbot' });
  });
});
