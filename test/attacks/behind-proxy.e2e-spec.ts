import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateApiKey } from '@app/contracts';
import { answeredFromCache, GATEWAY_VERIFY_MISSES } from '@app/testing';
import { SETTLE_MS } from '../../apps/gateway/src/auth/invalidation-log.js';
import { createChatbotKey, startAttackSystem, type AttackSystem, type Tenant } from './attack-system.js';

/**
 * The gateway behind a reverse proxy (an ingress): TRUSTED_PROXIES names the proxy, here the
 * loopback address 127.0.0.1, and the "proxy" is this test sending X-Forwarded-For from it.
 * Other loopback addresses (127.0.0.x) are clients that reach the gateway directly.
 */
const PROXY = '127.0.0.1';
const BRAKE_AFTER = 50;

let attack: AttackSystem;
let tenant: Tenant;
let validKey: string;

beforeAll(async () => {
  attack = await startAttackSystem({ TRUSTED_PROXIES: `${PROXY},::1` });
  tenant = await attack.helpers.provisionTenant('standard');
  validKey = (await createChatbotKey(attack.helpers, tenant, tenant.chatbots[0].id)).key;
}, 60_000);

afterAll(async () => {
  await attack?.stop();
});

const chatbotPath = (chatbotId = tenant.chatbots[0].id as string) => `/api/v1/chatbots/${chatbotId}/messages`;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
/** A request as the proxy relays it for `client` (what nginx's $proxy_add_x_forwarded_for sends). */
const viaProxy = (client: string, headers: Record<string, string> = {}) => ({ 'x-forwarded-for': client, ...headers });
let nextClient = 10;
const freshClient = () => `198.51.100.${nextClient++}`;

describe('behind a trusted proxy', () => {
  it(`brakes the client behind the proxy after ${BRAKE_AFTER} invalid keys, not everyone the proxy relays`, async () => {
    const attacker = freshClient();
    const bystander = freshClient();
    for (let i = 0; i < BRAKE_AFTER; i++) {
      const answer = await attack.send(
        { path: chatbotPath(), headers: { ...bearer(generateApiKey('chatbot')), ...viaProxy(attacker) } },
        PROXY,
      );
      expect([i, answer.status, answer.json.error.code]).toEqual([i, 401, 'invalid_api_key']);
    }
    const braked = await attack.send(
      { path: chatbotPath(), headers: { ...bearer(generateApiKey('chatbot')), ...viaProxy(attacker) } },
      PROXY,
    );
    expect([braked.status, braked.json.error.code]).toEqual([429, 'rate_limited']);
    expect(Number(braked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Writing a chain of its own in front does not make the attacker someone else: the proxy appends the real peer.
    const prefixed = await attack.send(
      { path: '/v1/chatbots', headers: { ...bearer(generateApiKey('user')), ...viaProxy(`${bystander}, ${attacker}`) } },
      PROXY,
    );
    expect(prefixed.status).toBe(429);

    // Everyone else behind the same proxy: valid keys work, invalid ones are plain 401s.
    expect((await attack.send({ path: chatbotPath(), headers: { ...bearer(validKey), ...viaProxy(bystander) } }, PROXY)).status).toBe(200);
    const otherGuess = await attack.send(
      { path: chatbotPath(), headers: { ...bearer(generateApiKey('chatbot')), ...viaProxy(bystander) } },
      PROXY,
    );
    expect([otherGuess.status, otherGuess.json.error.code]).toEqual([401, 'invalid_api_key']);
    expect(
      (await attack.send({ path: '/v1/chatbots', headers: { ...bearer(tenant.ownerKey), ...viaProxy(freshClient()) } }, PROXY)).status,
    ).toBe(200);
    attack.takeForwarded();
  });

  it('believes X-Forwarded-For only from the trusted proxy: a direct client cannot rotate its address with it', async () => {
    const direct = '127.0.0.77';
    for (let i = 0; i < BRAKE_AFTER; i++) {
      const answer = await attack.send(
        { path: chatbotPath(), headers: { ...bearer(generateApiKey('chatbot')), ...viaProxy(freshClient()) } },
        direct,
      );
      expect([i, answer.status]).toEqual([i, 401]);
    }
    const braked = await attack.send(
      { path: chatbotPath(), headers: { ...bearer(generateApiKey('chatbot')), ...viaProxy(freshClient()) } },
      direct,
    );
    expect([braked.status, braked.json.error.code]).toEqual([429, 'rate_limited']);
  });

  it("tells the upstream the proxy's chain ending with the proxy, and the scheme the proxy saw", async () => {
    const client = freshClient();
    attack.takeForwarded();
    const answer = await attack.send(
      { path: chatbotPath(), headers: { ...bearer(validKey), ...viaProxy(`203.0.113.1, ${client}`, { 'x-forwarded-proto': 'https' }) } },
      PROXY,
    );
    expect(answer.status).toBe(200);
    const [forwarded] = attack.takeForwarded();
    expect(forwarded.headers['x-forwarded-for']).toBe(`203.0.113.1, ${client}, ${PROXY}`);
    expect(forwarded.headers['x-forwarded-proto']).toBe('https');
  });

  it("drops a direct client's own forwarding claims: the upstream hears of the TCP peer only", async () => {
    const direct = '127.0.0.78';
    const answer = await attack.send(
      {
        path: chatbotPath(),
        headers: {
          ...bearer(validKey),
          'x-forwarded-for': '10.0.0.1',
          'x-forwarded-proto': 'https',
          forwarded: 'for=10.0.0.1;proto=https',
          'x-real-ip': '10.0.0.1',
        },
      },
      direct,
    );
    expect(answer.status).toBe(200);
    const [forwarded] = attack.takeForwarded();
    expect(forwarded.headers['x-forwarded-for']).toBe(direct);
    expect(forwarded.headers['x-forwarded-proto']).toBe('http');
    expect(forwarded.headers.forwarded).toBeUndefined();
    expect(forwarded.headers['x-real-ip']).toBeUndefined();
  });

  it(`brakes wrong admin-token guesses per client after ${BRAKE_AFTER}, the right token included`, async () => {
    const guesser = freshClient();
    // An admin call with a body the API refuses: 400 means the token was accepted, without changing anything.
    const adminCall = (token: string, client: string) =>
      attack.send(
        {
          method: 'POST',
          path: '/admin/v1/accounts',
          headers: { ...bearer(token), 'content-type': 'application/json', ...viaProxy(client) },
          body: '{}',
        },
        PROXY,
      );
    for (let i = 0; i < BRAKE_AFTER; i++) {
      const answer = await adminCall(`wrong-admin-token-${i}-0123456789`, guesser);
      expect([i, answer.status, answer.json.error.code]).toEqual([i, 401, 'invalid_api_key']);
    }
    const braked = await adminCall('wrong-admin-token-again-0123456789', guesser);
    expect([braked.status, braked.json.error.code]).toEqual([429, 'rate_limited']);
    expect(Number(braked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await adminCall(attack.system.adminToken, guesser)).status).toBe(429);
    expect((await adminCall(attack.system.adminToken, freshClient())).status).toBe(400);
  });

  it(`brakes one valid key after ${BRAKE_AFTER} verifications outside its reach, and keeps its own chatbot served`, async () => {
    const prober = await createChatbotKey(attack.helpers, tenant, tenant.chatbots[0].id);
    // Replies about a key changed within SETTLE_MS are not cached (verifier replicas may lag): use the new key
    // until its own chatbot is answered from the cache, like any key in steady use.
    const cachedUse = await answeredFromCache(
      { metricsUrl: attack.metricsOrigin, misses: GATEWAY_VERIFY_MISSES },
      () => attack.send({ path: chatbotPath(), headers: bearer(prober.key) }, '127.0.0.80'),
      { timeoutMs: SETTLE_MS + 5_000 },
    );
    expect(cachedUse.status).toBe(200);
    // From a different address each time: the brake is on the key, not the client.
    for (let i = 0; i < BRAKE_AFTER; i++) {
      const answer = await attack.send(
        { path: chatbotPath(randomUUID()), headers: { ...bearer(prober.key), ...viaProxy(freshClient()) } },
        PROXY,
      );
      expect([i, answer.status, answer.json.error.code]).toEqual([i, 403, 'insufficient_scope']);
    }
    const braked = await attack.send(
      { path: chatbotPath(randomUUID()), headers: { ...bearer(prober.key), ...viaProxy(freshClient()) } },
      PROXY,
    );
    expect([braked.status, braked.json.error.code]).toEqual([429, 'rate_limited']);
    expect((await attack.send({ path: chatbotPath(), headers: bearer(prober.key) }, '127.0.0.80')).status).toBe(200);
    // Other keys are untouched.
    expect((await attack.send({ path: chatbotPath(), headers: bearer(validKey) }, '127.0.0.80')).status).toBe(200);
    attack.takeForwarded();
  });
});

describe('metrics port', () => {
  it('serves /metrics on GATEWAY_METRICS_PORT with the health routes, and not on the public port', async () => {
    const publicMetrics = await attack.send({ path: '/metrics' });
    expect([publicMetrics.status, publicMetrics.json?.error?.code]).toEqual([404, 'not_found']);
    expect((await attack.send({ path: '/health/ready' })).status).toBe(200);

    const metrics = await fetch(`${attack.metricsOrigin}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('gateway_auth_memory_entries');
    expect(text).toContain('process_resident_memory_bytes');
    expect((await fetch(`${attack.metricsOrigin}/health/live`)).status).toBe(200);
    expect((await fetch(`${attack.metricsOrigin}/health/ready`)).status).toBe(200);
  });
});

describe('key names', () => {
  it('refuses bidirectional, zero-width and control characters with 400 invalid_request', async () => {
    for (const name of ['invoice\u202efdp.exe', 'prod\u200bkey', 'tab\there', 'x\u0378']) {
      const answer = await attack.helpers.call('POST', '/v1/api-keys', { credential: tenant.ownerKey, body: { name } });
      expect([name, answer.status, answer.body.error?.code]).toEqual([name, 400, 'invalid_request']);
    }
  });
});
