// The system under test, in a namespace of its own (database, Redis prefix, subject prefix), started
// from dist/ with scripts/system.mjs and removed afterwards with scripts/run-namespace.mjs, as the tests do.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropRunNamespace, runNamespace } from '../run-namespace.mjs';
import { freePorts, migrate, startSystem } from '../system.mjs';

const dist = new URL('../../dist/', import.meta.url);
export const load = (path) => import(new URL(path, dist).href);

export async function startBenchSystem({ upstreamUrl, extraEnv = {} }) {
  const namespace = runNamespace({}, { tag: 'bench', bytes: 3 });
  const { runId } = namespace;
  const logDir = mkdtempSync(join(tmpdir(), `${runId}-logs-`));
  const adminToken = randomBytes(24).toString('hex');
  const ports = await freePorts();
  const env = {
    ...process.env,
    DATABASE_URL: namespace.databaseUrl,
    REDIS_URL: namespace.redisUrl,
    REDIS_KEY_PREFIX: namespace.redisPrefix,
    NATS_URL: namespace.natsUrl,
    NATS_SUBJECT_PREFIX: namespace.subjectPrefix,
    ADMIN_TOKEN: adminToken,
    UPSTREAM_URL: upstreamUrl,
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  await migrate(env);
  const running = await startSystem({ env, ports, output: (name) => join(logDir, `${name}.log`) });
  return {
    namespace,
    env,
    logDir,
    adminToken,
    ports,
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    // The gateway serves /metrics on its metrics port only; the other services on their HTTP port.
    gatewayMetricsUrl: `http://127.0.0.1:${ports['gateway-metrics']}`,
    serviceUrl: (name) => `http://127.0.0.1:${ports[name]}`,
    running,
    async stop() {
      await running.stop();
      await dropNamespace(namespace);
    },
  };
}

async function dropNamespace(ns) {
  const { usageStreamNames } = await load('libs/common/src/index.js');
  const { Subjects } = await load('libs/contracts/src/index.js');
  const { stream } = usageStreamNames({ subject: (subject) => `${ns.subjectPrefix}.${Subjects[subject]}` });
  await dropRunNamespace(ns, { streams: [stream] });
}

/** JSON over HTTP with a keep-alive agent; answers {status, body}. */
export async function call(baseUrl, method, path, { credential, body } = {}) {
  const response = await fetch(baseUrl + path, {
    method,
    headers: {
      ...(credential ? { authorization: `Bearer ${credential}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

function expectStatus(answer, status, what) {
  if (answer.status !== status) throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** An account (plan standard) with `chatbots` chatbots and an owner holding a user-level key, over the admin API. */
export async function provisionTenant(system, chatbots = 1) {
  const admin = (method, path, body) => call(system.gatewayUrl, method, `/admin/v1${path}`, { credential: system.adminToken, body });
  const account = expectStatus(await admin('POST', '/accounts', { name: 'Bench agency', plan: 'standard' }), 201, 'create account');
  const bots = [];
  for (let i = 0; i < chatbots; i++) {
    bots.push(expectStatus(await admin('POST', `/accounts/${account.id}/chatbots`, { name: `Bench bot ${i}` }), 201, 'create chatbot'));
  }
  const owner = expectStatus(
    await admin('POST', `/accounts/${account.id}/users`, { email: `owner-${system.namespace.runId}@example.test`, role: 'owner' }),
    201,
    'create owner',
  );
  const ownerKey = expectStatus(await admin('POST', `/users/${owner.id}/api-keys`, { name: 'Owner' }), 201, 'owner key');
  return { account, chatbots: bots, owner, ownerKey: ownerKey.key };
}

/** A chatbot key made through the management API, as a customer would: {id, key, chatbotId}. */
export async function createChatbotKey(system, tenant, chatbotId, baseUrl = system.gatewayUrl) {
  const created = expectStatus(
    await call(baseUrl, 'POST', `/v1/chatbots/${chatbotId}/api-keys`, { credential: tenant.ownerKey, body: { name: 'bench' } }),
    201,
    'create chatbot key',
  );
  return { id: created.id, key: created.key, chatbotId };
}

/** Samples of one metric family from a Prometheus text page (label string → value). */
export async function scrape(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const values = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_:]+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (match && match[1] === name) values[match[2] ?? ''] = Number(match[3]);
  }
  return values;
}
