import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { generateApiKey, Subjects } from '@app/contracts';
import { SETTLE_MS } from '../../apps/gateway/src/auth/invalidation-log.js';
import { answeredFromCache, GATEWAY_VERIFY_MISSES } from '@app/testing';
import { expectAnswer } from '../../libs/testing/src/management-api.js';
import { createChatbotKey, startAttackSystem, type AttackSystem, type RawAnswer, type Tenant } from './attack-system.js';

/**
 * Guessing keys: a client presenting invalid keys is throttled without touching anyone else,
 * and a revoked key cannot be told from one that never existed, by status, body, headers or time.
 * Clients are told apart by source address, so each test client binds its own loopback address.
 */
const THROTTLE_AFTER = 50;

let attack: AttackSystem;
let tenant: Tenant;
let validKey: string;
let nats: NatsConnection;

beforeAll(async () => {
  attack = await startAttackSystem();
  tenant = await attack.helpers.provisionTenant('standard');
  validKey = (await createChatbotKey(attack.helpers, tenant, tenant.chatbots[0].id)).key;
  nats = await connect({ servers: attack.system.env.natsUrl });
}, 60_000);

afterAll(async () => {
  await nats?.close();
  await attack?.stop();
});

const chatbotPath = () => `/api/v1/chatbots/${tenant.chatbots[0].id}/messages`;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
/** One attacker per test, so one test's failures never throttle another's. */
let nextAddress = 20;
const freshAddress = () => `127.0.0.${nextAddress++}`;

function withoutVolatile(answer: RawAnswer) {
  const { date: _date, 'x-request-id': _id, 'keep-alive': _keepAlive, ...headers } = answer.headers;
  const { requestId: _requestId, ...error } = answer.json?.error ?? {};
  return { status: answer.status, headers, error };
}

describe('brute force', () => {
  it(`throttles a client after ${THROTTLE_AFTER} invalid keys in a minute, and no other client`, async () => {
    const attacker = freshAddress();
    const bystander = freshAddress();
    for (let i = 0; i < THROTTLE_AFTER; i++) {
      // Unknown well-formed keys (asked of the verifier) and malformed ones (refused locally) both count.
      const key = i % 2 ? generateApiKey('chatbot') : `cbk_${'x'.repeat(38)}`;
      const path = i % 5 === 0 ? '/v1/chatbots' : chatbotPath();
      const answer = await attack.send({ path, headers: bearer(key) }, attacker);
      expect([i, answer.status, answer.json.error.code]).toEqual([i, 401, 'invalid_api_key']);
    }
    const throttled = await attack.send({ path: chatbotPath(), headers: bearer(generateApiKey('chatbot')) }, attacker);
    expect([throttled.status, throttled.json.error.code]).toEqual([429, 'rate_limited']);
    const retryAfter = Number(throttled.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(throttled.json.error.requestId).toBe(throttled.headers['x-request-id']);
    // A forwarding header is not an identity: claiming another address does not lift the brake.
    const spoofed = await attack.send(
      {
        path: chatbotPath(),
        headers: { ...bearer(generateApiKey('user')), 'x-forwarded-for': bystander, forwarded: `for=${bystander}`, 'x-real-ip': bystander },
      },
      attacker,
    );
    expect(spoofed.status).toBe(429);
    expect((await attack.send({ path: '/v1/chatbots', headers: bearer(generateApiKey('user')) }, attacker)).status).toBe(429);

    // Everyone else: valid keys work, invalid ones are plain 401s, not 429s.
    expect((await attack.send({ path: chatbotPath(), headers: bearer(validKey) }, bystander)).status).toBe(200);
    const otherGuess = await attack.send({ path: chatbotPath(), headers: bearer(generateApiKey('chatbot')) }, bystander);
    expect([otherGuess.status, otherGuess.json.error.code]).toEqual([401, 'invalid_api_key']);
    expect((await attack.send({ path: '/v1/chatbots', headers: bearer(tenant.ownerKey) }, freshAddress())).status).toBe(200);
    expect(attack.takeForwarded()).toHaveLength(1);
  });

  describe('unknown and revoked keys', () => {
    const KEYS_PER_KIND = 8;
    let revoked: string[] = [];
    let unknown: string[] = [];
    let revokedUserKey: string;

    beforeAll(async () => {
      const created = [];
      for (let i = 0; i < KEYS_PER_KIND; i++) created.push(await createChatbotKey(attack.helpers, tenant, tenant.chatbots[0].id));
      const userKey = expectAnswer(await attack.helpers.call('POST', '/v1/api-keys', { credential: tenant.ownerKey, body: {} }), 201).body;
      // Revoked last and never measured: once the gateway caches its refusal, every earlier revocation has settled too.
      const marker = await createChatbotKey(attack.helpers, tenant, tenant.chatbots[1].id);
      // Used once while valid, so every cache layer has seen them as good keys before the revocation.
      for (const { key } of created)
        expect((await attack.send({ path: chatbotPath(), headers: bearer(key) }, freshAddress())).status).toBe(200);
      expect((await attack.send({ path: '/v1/chatbots', headers: bearer(userKey.key) }, freshAddress())).status).toBe(200);
      for (const { id } of created) {
        expectAnswer(
          await attack.helpers.call('DELETE', `/v1/chatbots/${tenant.chatbots[0].id}/api-keys/${id}`, { credential: tenant.ownerKey }),
          204,
        );
      }
      expectAnswer(await attack.helpers.call('DELETE', `/v1/api-keys/${userKey.id}`, { credential: tenant.ownerKey }), 204);
      expectAnswer(
        await attack.helpers.call('DELETE', `/v1/chatbots/${tenant.chatbots[1].id}/api-keys/${marker.id}`, { credential: tenant.ownerKey }),
        204,
      );
      revoked = created.map(({ key }) => key);
      revokedUserKey = userKey.key;
      unknown = Array.from({ length: KEYS_PER_KIND }, () => generateApiKey('chatbot'));
      attack.takeForwarded();
      // For SETTLE_MS after a change the gateway caches no reply about the key (a verifier replica may
      // still answer from before the event), so a just-revoked key is asked remotely every time.
      // That window is by design and documented (docs/reliability.md); the steady state is measured.
      const settled = await answeredFromCache(
        { metricsUrl: attack.metricsOrigin, misses: GATEWAY_VERIFY_MISSES },
        () => attack.send({ path: chatbotPath(), headers: bearer(marker.key) }, freshAddress()),
        { timeoutMs: SETTLE_MS + 5_000 },
      );
      expect(settled.status).toBe(401);
    }, 30_000);

    it('answer the same status, body and headers on the data plane and the management API', async () => {
      const pairs: [string, string, string][] = [
        [chatbotPath(), revoked[0], unknown[0]],
        ['/v1/chatbots', revokedUserKey, generateApiKey('user')],
        ['/v1/api-keys', revokedUserKey, generateApiKey('user')],
      ];
      for (const [path, revokedKey, unknownKey] of pairs) {
        // First sight (remote verification) and second (cache) alike.
        for (let round = 0; round < 2; round++) {
          const address = freshAddress();
          const answers = [
            await attack.send({ path, headers: bearer(revokedKey) }, address),
            await attack.send({ path, headers: bearer(unknownKey) }, address),
          ];
          expect(withoutVolatile(answers[0])).toEqual(withoutVolatile(answers[1]));
          expect(answers[0].json.error.code).toBe('invalid_api_key');
        }
      }
      expect(attack.takeForwarded()).toEqual([]);
    });

    it('take the same time: both answered from the gateway’s negative cache after the first miss', async () => {
      const verifyRequests = { revoked: 0, unknown: 0 };
      const kindOf = new Map<string, 'revoked' | 'unknown'>([
        ...revoked.map((key) => [key, 'revoked'] as const),
        ...unknown.map((key) => [key, 'unknown'] as const),
      ]);
      const subscription = nats.subscribe(`${attack.system.env.subjectPrefix}.${Subjects.authVerify}`, {
        callback: (_error, message) => {
          const kind = kindOf.get(message.json<{ key: string }>().key);
          if (kind) verifyRequests[kind]++;
        },
      });
      await nats.flush();
      // Each measured request is a failure: spread them over addresses so none reaches the throttle.
      const addresses = Array.from({ length: 20 }, freshAddress);
      let sent = 0;
      const timed = async (key: string) => {
        const address = addresses[Math.floor(sent++ / (THROTTLE_AFTER - 10)) % addresses.length];
        const started = process.hrtime.bigint();
        const answer = await attack.send({ path: chatbotPath(), headers: bearer(key) }, address);
        const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
        expect(answer.status).toBe(401);
        return elapsed;
      };
      for (const key of [...revoked, ...unknown]) await timed(key); // warm-up: the first miss of each key
      const startedAt = Date.now();
      const samples = { revoked: [] as number[], unknown: [] as number[] };
      const ROUNDS = 300;
      for (let round = 0; round < ROUNDS; round++) {
        // Interleaved, in random order: drift and noise from the busy machine hit both kinds alike.
        const pair = [
          ['revoked', revoked[randomInt(KEYS_PER_KIND)]],
          ['unknown', unknown[randomInt(KEYS_PER_KIND)]],
        ] as const;
        for (const [kind, key] of randomInt(2) ? pair : [pair[1], pair[0]]) samples[kind].push(await timed(key));
      }
      const elapsedMs = Date.now() - startedAt;
      subscription.unsubscribe();

      // The negative cache lives 5 s: at most one remote verification per key per 5 s, plus the warm-up.
      const bound = KEYS_PER_KIND * (2 + Math.ceil(elapsedMs / 5_000));
      expect(verifyRequests.revoked).toBeLessThanOrEqual(bound);
      expect(verifyRequests.unknown).toBeLessThanOrEqual(bound);
      expect(verifyRequests.revoked + verifyRequests.unknown).toBeLessThan(ROUNDS / 2);

      const revokedMedian = median(samples.revoked);
      const unknownMedian = median(samples.unknown);
      const pooled = median([...samples.revoked, ...samples.unknown]);
      // A real oracle (a database or Redis round trip for one kind) costs a millisecond or more on
      // top of a sub-millisecond cached answer. Medians of 300 interleaved samples hold still on a
      // loaded 2-core machine to well within this bound; a leak of that size does not.
      const difference = Math.abs(revokedMedian - unknownMedian);
      process.stdout.write(
        `unknown vs revoked: medians ${unknownMedian.toFixed(3)} / ${revokedMedian.toFixed(3)} ms, difference ${difference.toFixed(3)} ms; ` +
          `remote verifications ${verifyRequests.unknown} / ${verifyRequests.revoked} over ${elapsedMs} ms\n`,
      );
      expect(difference).toBeLessThanOrEqual(Math.max(0.5, 0.25 * pooled));
    });
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
