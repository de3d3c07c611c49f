// Micro-benchmark of the data plane's per-request request checks, this tree against a git ref
// (default `main`), in one process: path normalisation, route match, the chatbot id's canonical
// form, the judged body's rules (media type, field in the query, field in the body) and the
// header filter. Needs `npm run build` first (this tree is read from dist/).
//
//   node scripts/bench/edge-checks.mjs [--ref main] [--rounds 15] [--iterations 200000]
//
// The ref's sources are read with `git show` and transpiled here (TypeScript's transpileModule),
// so both versions run side by side in this process, alternating rounds, on the same inputs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import ts from 'typescript';
import { median } from './stats.mjs';
import { ROOT } from '../system.mjs';

const { values: args } = parseArgs({
  options: {
    ref: { type: 'string', default: 'main' },
    rounds: { type: 'string', default: '15' },
    iterations: { type: 'string', default: '200000' },
  },
});
const MODULES = ['api-path', 'route-table', 'forwarded-headers', 'json-body', 'field-names'];
const DATA_PLANE = 'apps/gateway/src/data-plane';
const COMMON = pathToFileURL(join(ROOT, 'dist/libs/common/src/index.js')).href;

/** The ref's data-plane modules, transpiled into a directory of their own; a module the ref lacks is skipped. */
function baselineFrom(ref) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-checks-'));
  for (const name of MODULES) {
    let source;
    try {
      source = execFileSync('git', ['show', `${ref}:${DATA_PLANE}/${name}.ts`], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      continue;
    }
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(join(dir, `${name}.js`), outputText.replaceAll("'@app/common'", `'${COMMON}'`));
  }
  return dir;
}

async function load(dir) {
  const url = (name) => pathToFileURL(join(dir, `${name}.js`)).href;
  const [paths, routes, headers, body] = await Promise.all(
    ['api-path', 'route-table', 'forwarded-headers', 'json-body'].map((name) => import(url(name))),
  );
  const fields = await import(url('field-names')).catch(() => null);
  return { paths, routes, headers, body, fields };
}

const CHATBOT = '3f1c2a9e-5b7d-4e21-9c0a-6d8e2f4b1a73';
const KEY = { keyId: 'k1', type: 'chatbot', accountId: 'a1', chatbotId: CHATBOT, userId: null };
const HEADERS = {
  host: 'gateway.example.com',
  authorization: 'Bearer cbk_0123456789abcdefghijklmnopqrstuvABCDEF',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) chatbot-client/1.2',
  accept: 'application/json, text/event-stream',
  'accept-language': 'en-GB,en;q=0.9',
  'content-type': 'application/json',
  'content-length': '187',
  connection: 'keep-alive',
  'x-request-id': 'req-1234567890',
  'x-client-version': '1.2.3',
};
const CHAT_BODY = Buffer.from(
  JSON.stringify({ chatbotId: CHATBOT, message: 'Hello, which plans do you offer for a team of five?', stream: true }),
);
/** A typical mix: chatbot routes (with and without a query), the chat route with its body, an account route. */
const REQUESTS = [
  { method: 'GET', url: `/api/v1/chatbots/${CHATBOT}/conversations?limit=20` },
  { method: 'POST', url: `/api/v1/chatbots/${CHATBOT}/messages` },
  { method: 'POST', url: '/api/v1/chat', body: CHAT_BODY },
  { method: 'GET', url: '/api/v1/account/usage' },
];
const UPPER_CASE = /[A-Z]/;

function pipeline(version) {
  const table = new version.routes.RouteTable(version.routes.DEFAULT_ROUTES);
  const judged = version.fields !== null;
  return (request) => {
    const target = version.paths.normaliseApiPath(request.url);
    const match = table.match(request.method, target.path);
    const source = match.chatbotIdSource;
    let chatbotId = null;
    if (source?.from === 'body') {
      if (judged) {
        version.body.requireJsonBody(HEADERS);
        version.fields.refuseFieldInQuery(target.query, source.name);
      }
      chatbotId = version.body.stringField(request.body, source.name);
    } else if (source?.from === 'path') chatbotId = match.params[source.name];
    if (judged && chatbotId !== null && UPPER_CASE.test(chatbotId)) chatbotId = chatbotId.toLowerCase();
    return version.headers.upstreamRequestHeaders(HEADERS, { ...KEY, chatbotId }, 'req-1');
  };
}

function nsPerRequest(run, iterations) {
  let sink = 0;
  const startedAt = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += Object.keys(run(REQUESTS[i & 3])).length;
  const elapsed = Number(process.hrtime.bigint() - startedAt);
  if (sink === 0) throw new Error('nothing was computed');
  return elapsed / iterations;
}

const baseline = pipeline(await load(baselineFrom(args.ref)));
const current = pipeline(await load(join(ROOT, 'dist', DATA_PLANE)));
const iterations = Number(args.iterations);
// Warm-up: both versions optimised by the JIT before anything is timed.
nsPerRequest(baseline, iterations);
nsPerRequest(current, iterations);
const before = [];
const after = [];
for (let round = 0; round < Number(args.rounds); round++) {
  before.push(nsPerRequest(baseline, iterations));
  after.push(nsPerRequest(current, iterations));
}
const [b, a] = [median(before), median(after)];
console.log(`request checks per request (median of ${args.rounds} rounds × ${iterations}):`);
console.log(
  `  ${args.ref}: ${b.toFixed(0)} ns   this tree: ${a.toFixed(0)} ns   ratio ${(a / b).toFixed(2)}×   (+${(a - b).toFixed(0)} ns)`,
);
