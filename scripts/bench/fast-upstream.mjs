// The upstream every throughput scenario forwards to, gateway and baseline alike: a bare
// node:http server answering a small JSON body at once. It counts the requests it received per
// X-Api-Key-Id, the ground truth the usage totals are checked against.
//   node scripts/bench/fast-upstream.mjs   (prints {"port":n} on its first stdout line)
import { createServer } from 'node:http';

const BODY = Buffer.from('{"reply":"ok","tokens":3}');
const received = new Map();

const server = createServer((request, response) => {
  if (request.url === '/__counts') {
    response.writeHead(200, { 'content-type': 'application/json' });
    return response.end(JSON.stringify(Object.fromEntries(received)));
  }
  const keyId = request.headers['x-api-key-id'];
  if (typeof keyId === 'string') received.set(keyId, (received.get(keyId) ?? 0) + 1);
  request.resume();
  request.once('end', () => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
    response.end(BODY);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
