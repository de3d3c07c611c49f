// The bare baseline: Fastify forwarding `/api/*` to the same upstream through an undici Pool with
// the gateway's connection settings (UPSTREAM_CONNECTIONS, UPSTREAM_TIMEOUT_MS defaults), streaming
// the answer back. No authentication, no request id, no metrics, no logging: what a reverse proxy
// costs at least on this stack.
//   UPSTREAM_URL=http://127.0.0.1:n node scripts/bench/baseline-proxy.mjs   (prints {"port":n})
import { pipeline } from 'node:stream';
import Fastify from 'fastify';
import { Pool } from 'undici';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);
const timeoutMs = 30_000;
const upstream = new URL(process.env.UPSTREAM_URL);
const pool = new Pool(upstream.origin, {
  connections: Number(process.env.UPSTREAM_CONNECTIONS ?? 128),
  headersTimeout: timeoutMs,
  bodyTimeout: timeoutMs,
  connect: { timeout: timeoutMs },
});

function withoutHopByHop(headers) {
  /** @type {Record<string, string | string[] | undefined>} */
  const out = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
  return out;
}

const app = Fastify({ logger: false });
app.register(async (scope) => {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  scope.all('/api/*', async (request, reply) => {
    const hasBody = request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0';
    const answer = await pool.request({
      method: /** @type {import('undici').Dispatcher.HttpMethod} */ (request.method),
      path: request.raw.url ?? '/',
      headers: withoutHopByHop(request.headers),
      body: hasBody || request.headers['transfer-encoding'] ? request.raw : null,
    });
    reply.hijack();
    reply.raw.writeHead(answer.statusCode, withoutHopByHop(answer.headers));
    pipeline(answer.body, reply.raw, () => undefined);
    return reply;
  });
});
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: app.server.address().port })}\n`);
process.on(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => pool.close())
      .then(() => process.exit(0)),
);
