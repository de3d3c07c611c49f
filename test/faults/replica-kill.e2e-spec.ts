import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ServiceReplica } from '@app/testing';
import { GatewayClient } from '../client.js';
import { createChatbotKey, serviceProcess, sleep, startFaultWorld, usageTotal, type FaultWorld, type Tenant } from './fault-kit.js';
import { eventually } from '@app/testing';

const VERIFY_TIMEOUT_MS = 1_000;
const WORKERS_PER_GATEWAY = 6;

interface Outcome {
  gateway: 1 | 2;
  /** 0: the gateway's own chatbot key on its chatbot; 1: that key on another chatbot; 2: the user-level key. */
  kind: number;
  startedAt: number;
  /** 'ok' (the right answer), 'auth_unavailable' (503, fail closed), 'connection' (no HTTP answer), or what was wrong. */
  result: string;
}

/**
 * Two gateways and two verifiers under steady load; one verifier, then one gateway, is killed
 * with SIGKILL. The gateway cache is off (1 ms), so every request is verified by a verifier.
 * What a client notices: the surviving gateway answers every request, never a wrong answer
 * (a key on the wrong chatbot is never let through, a valid key is never refused as invalid);
 * the verifications the dead verifier held are asked again within VERIFY_TIMEOUT_MS, so not even
 * those get a 503.
 */
describe('fault: a gateway or verifier replica killed under load', () => {
  let world: FaultWorld;
  let tenant: Tenant;
  let gateway2: ServiceReplica;
  let supportBot: string;
  let salesBot: string;
  const keys: Record<1 | 2, { id: string; key: string }> = {} as never;
  /** Requests sent before the load, to see both gateways answer: their uses count too. */
  const warmUp: Outcome[] = [];

  beforeAll(async () => {
    world = await startFaultWorld({ AUTH_CACHE_TTL_MS: '1', VERIFY_TIMEOUT_MS: String(VERIFY_TIMEOUT_MS) });
    tenant = await world.client.provision('standard', ['Support bot', 'Sales bot']);
    [supportBot, salesBot] = tenant.chatbots.map((chatbot: { id: string }) => chatbot.id);
    keys[1] = await createChatbotKey(world.client, tenant, supportBot);
    keys[2] = await createChatbotKey(world.client, tenant, supportBot);
    gateway2 = await world.system.startReplica('gateway');
    await world.system.startReplica('auth-verifier');
    // Every kind of request the load sends is answered right through both gateways before the load starts.
    await eventually(
      async () => {
        const sent = ([1, 2] as const).flatMap((gateway) => [0, 1, 2].map((round) => probe(gateway, clientOf(gateway), round)));
        const outcomes = await Promise.all(sent);
        warmUp.push(...outcomes);
        return outcomes;
      },
      (outcomes) => outcomes.every(({ result }) => result === 'ok'),
      { timeoutMs: 10_000, what: 'every kind of request answered right through both gateways' },
    );
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  const clientOf = (gateway: 1 | 2) => (gateway === 1 ? world.client : new GatewayClient(gateway2.url, ''));

  /** How many requests each gateway answered right among those started after `since`. */
  const answeredRight = (outcomes: Outcome[], since: number) => ({
    1: outcomes.filter((outcome) => outcome.gateway === 1 && outcome.startedAt > since && outcome.result === 'ok').length,
    2: outcomes.filter((outcome) => outcome.gateway === 2 && outcome.startedAt > since && outcome.result === 'ok').length,
  });

  /** One request of one of three kinds, judged against the only right answer. */
  async function probe(gateway: 1 | 2, client: GatewayClient, round: number): Promise<Outcome> {
    const startedAt = Date.now();
    const own = keys[gateway];
    const kind = round % 3;
    const [key, chatbotId, expected] =
      kind === 0
        ? [own.key, supportBot, { status: 200, keyId: own.id }]
        : kind === 1
          ? [own.key, salesBot, { status: 403, code: 'insufficient_scope' }]
          : [tenant.userKey, salesBot, { status: 200, keyId: tenant.userKeyId }];
    let answer;
    try {
      answer = await client.call('GET', `/api/v1/chatbots/${chatbotId}/conversations`, { key });
    } catch {
      return { gateway, kind, startedAt, result: 'connection' };
    }
    if (answer.status === 503 && answer.body?.error?.code === 'auth_unavailable')
      return { gateway, kind, startedAt, result: 'auth_unavailable' };
    const right =
      answer.status === expected.status &&
      ('keyId' in expected
        ? answer.body.received['x-api-key-id'] === expected.keyId && answer.body.received['x-chatbot-id'] === chatbotId
        : answer.body.error?.code === expected.code);
    return { gateway, kind, startedAt, result: right ? 'ok' : `wrong: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}` };
  }

  it('keeps answering every request correctly through the surviving replicas', async () => {
    const clients = { 1: clientOf(1), 2: clientOf(2) };
    const outcomes: Outcome[] = [];
    let running = true;
    const workers = ([1, 2] as const).flatMap((gateway) =>
      Array.from({ length: WORKERS_PER_GATEWAY }, async (_, worker) => {
        for (let round = worker; running; round++) {
          const outcome = await probe(gateway, clients[gateway], round);
          outcomes.push(outcome);
          // A pause before trying a dead gateway again (a backoff, not a condition): the others keep the load up.
          if (outcome.result === 'connection') await sleep(50);
        }
      }),
    );

    const loadStartedAt = Date.now();
    await eventually(
      async () => answeredRight(outcomes, loadStartedAt),
      (right) => right[1] >= 30 && right[2] >= 30,
      { timeoutMs: 10_000, what: 'the load answered through both gateways' },
    );
    const verifierKilledAt = Date.now();
    serviceProcess(world.system, 'auth-verifier').child.kill('SIGKILL');
    // Both gateways carry on past the verify timeout after the kill: what the dead verifier held was asked again.
    await eventually(
      async () => answeredRight(outcomes, verifierKilledAt + VERIFY_TIMEOUT_MS + 500),
      (right) => right[1] > 50 && right[2] >= 10,
      { timeoutMs: 15_000, what: 'both gateways answering after the verifier failover' },
    );
    const gatewayKilledAt = Date.now();
    gateway2.child.kill('SIGKILL');
    await eventually(
      async () => ({
        survivor: answeredRight(outcomes, gatewayKilledAt)[1],
        refusedByKilled: outcomes.some((outcome) => outcome.gateway === 2 && outcome.result === 'connection'),
      }),
      ({ survivor, refusedByKilled }) => survivor >= 50 && refusedByKilled,
      { timeoutMs: 15_000, what: 'the survivor answering after the killed gateway stopped answering' },
    );
    running = false;
    await Promise.all(workers);

    const wrong = outcomes.filter((outcome) => outcome.result.startsWith('wrong'));
    expect(wrong).toEqual([]);
    const fromSurvivor = outcomes.filter((outcome) => outcome.gateway === 1);
    expect(fromSurvivor.length).toBeGreaterThan(100);
    expect(fromSurvivor.filter((outcome) => outcome.result === 'connection')).toEqual([]);
    // A connection failure only ever comes from the killed gateway, and only once it is dead.
    for (const outcome of outcomes.filter(({ result }) => result === 'connection')) {
      expect(outcome.gateway).toBe(2);
      expect(outcome.startedAt).toBeGreaterThanOrEqual(gatewayKilledAt - 2_000);
    }
    // A verification the dead verifier held is asked again (another replica answers) within the
    // verify timeout: no caller is refused, not even those waiting on it when it died.
    const unavailable = outcomes.filter(({ result }) => result === 'auth_unavailable');
    expect(unavailable.map((outcome) => `gateway ${outcome.gateway}, ${outcome.startedAt - verifierKilledAt} ms after the kill`)).toEqual(
      [],
    );
    // Well after each crash, the survivors answer everything right.
    const settled = fromSurvivor.filter(({ startedAt }) => startedAt > verifierKilledAt + VERIFY_TIMEOUT_MS + 500);
    expect(settled.length).toBeGreaterThan(50);
    expect(settled.every(({ result }) => result === 'ok')).toBe(true);

    // Every use forwarded by the surviving gateway is counted, exactly.
    const survivorUses = ownKeyForwarded([...warmUp, ...outcomes], 1);
    expect(survivorUses).toBeGreaterThan(0);
    await eventually(
      () => usageTotal(world.client, tenant, supportBot, keys[1].id),
      (total) => total === survivorUses,
      { timeoutMs: 10_000, what: 'usage through the surviving gateway' },
    );
    // The killed gateway held at most its last flush interval of uses in memory: never counted twice, at most a few lost.
    const killedUses = ownKeyForwarded([...warmUp, ...outcomes], 2);
    const killedTotal = await usageTotal(world.client, tenant, supportBot, keys[2].id);
    expect(killedTotal).toBeLessThanOrEqual(killedUses + WORKERS_PER_GATEWAY);
    expect(killedTotal).toBeGreaterThan(0);
  }, 90_000);
});

/** Requests with the gateway's own chatbot key that it answered 200: each one a use of that key. */
function ownKeyForwarded(outcomes: Outcome[], gateway: 1 | 2): number {
  return outcomes.filter((outcome) => outcome.gateway === gateway && outcome.kind === 0 && outcome.result === 'ok').length;
}
