import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestSystem, type TestSystem, eventually } from '@app/testing';
import { expectStatus, GatewayClient, type Answer } from './client.js';

/** Every change must reach every replica within this long (the goal is far below it). */
const PROPAGATION_MS = 1_000;

/**
 * Key lifecycle across two gateways and two verifiers, with the caches at their defaults (a
 * gateway keeps a verified key 30 s): expiry of a key held in every cache, disable and enable,
 * a roll with a grace period and its cut-off, and IPv4/IPv6/CIDR allow-lists. Each change is
 * timed from the instant it takes effect until both gateways answer accordingly.
 */
describe('key lifecycle across replicas', () => {
  let system: TestSystem;
  let gateways: GatewayClient[];
  let tenant: Awaited<ReturnType<GatewayClient['provision']>>;
  let bot: string;

  beforeAll(async () => {
    system = await startTestSystem();
    const second = await system.startReplica('gateway');
    await system.startReplica('auth-verifier');
    gateways = [new GatewayClient(system.gatewayUrl, system.adminToken), new GatewayClient(second.url, system.adminToken)];
    tenant = await gateways[0].provision('standard', ['Support bot']);
    bot = tenant.chatbots[0].id;
  }, 240_000);

  afterAll(async () => {
    await system?.stop();
  });

  const manage = (method: string, path: string, body?: unknown) => gateways[0].call(method, path, { key: tenant.userKey, body });
  const keysPath = () => `/v1/chatbots/${bot}/api-keys`;

  async function createKey(body: Record<string, unknown> = {}) {
    return expectStatus(await manage('POST', keysPath(), body), 201).body as { id: string; key: string } & Record<string, unknown>;
  }

  /** What each gateway answers to the key on its chatbot: status and error code. */
  async function answers(key: string): Promise<string[]> {
    const results = await Promise.all(gateways.map((gateway) => gateway.call('GET', `/api/v1/chatbots/${bot}/history`, { key })));
    return results.map((answer: Answer) => (answer.status === 200 ? '200' : `${answer.status} ${answer.body?.error?.code}`));
  }

  /** Polls until every gateway answers `expected`; resolves with the ms that took from `since`. */
  async function everywhere(key: string, expected: string, since: number): Promise<number> {
    const seen = await eventually(
      () => answers(key),
      (all) => all.every((answer) => answer === expected),
      { timeoutMs: PROPAGATION_MS + 1_000 },
    );
    expect(seen).toEqual(gateways.map(() => expected));
    return Date.now() - since;
  }

  /** Several requests through each gateway: both gateways and both verifiers hold the key. */
  async function warm(key: string): Promise<void> {
    for (let i = 0; i < 4; i++) expect(await answers(key)).toEqual(['200', '200']);
  }

  async function listed(id: string, path = keysPath()) {
    const { body } = expectStatus(await manage('GET', path), 200);
    return (body.data as { id: string }[]).find((key) => key.id === id) as Record<string, unknown> | undefined;
  }

  async function untilInstant(at: number): Promise<void> {
    await eventually(
      async () => Date.now(),
      (now) => now >= at,
      { timeoutMs: at - Date.now() + 1_000 },
    );
  }

  it('refuses a cached key from the instant it expires, everywhere, whether the expiry was set at creation or by PATCH', async () => {
    // Far enough ahead for the warm-up below on a busy machine.
    const expiresAt = Date.now() + 8_000;
    const atCreation = await createKey({ name: 'Short-lived', expiresAt: new Date(expiresAt).toISOString() });
    expect(atCreation).toMatchObject({
      status: 'active',
      enabled: true,
      expiresAt: new Date(expiresAt).toISOString(),
      allowedIps: null,
      rolledFrom: null,
    });
    const patched = await createKey({ name: 'Patched' });
    await warm(atCreation.key);
    await warm(patched.key);
    const changed = expectStatus(
      await manage('PATCH', `${keysPath()}/${patched.id}`, { expiresAt: new Date(expiresAt).toISOString() }),
      200,
    );
    expect(changed.body.expiresAt).toBe(new Date(expiresAt).toISOString());
    // The change itself leaves the key working until the instant comes.
    expect(await answers(patched.key)).toEqual(['200', '200']);
    expect(Date.now()).toBeLessThan(expiresAt);

    await untilInstant(expiresAt);
    const [createdLag, patchedLag] = await Promise.all([
      everywhere(atCreation.key, '401 invalid_api_key', expiresAt),
      everywhere(patched.key, '401 invalid_api_key', expiresAt),
    ]);
    expect(createdLag).toBeLessThan(PROPAGATION_MS);
    expect(patchedLag).toBeLessThan(PROPAGATION_MS);
    expect(await listed(atCreation.id)).toMatchObject({ status: 'expired' });

    // Moving the expiry ahead again revives it; an expiry in the past is refused.
    const past = await manage('PATCH', `${keysPath()}/${patched.id}`, { expiresAt: new Date(Date.now() - 1_000).toISOString() });
    expect([past.status, past.body.error.code]).toEqual([400, 'invalid_request']);
    const revivedAt = Date.now();
    expectStatus(await manage('PATCH', `${keysPath()}/${patched.id}`, { expiresAt: null }), 200);
    expect(await everywhere(patched.key, '200', revivedAt)).toBeLessThan(PROPAGATION_MS);
  }, 30_000);

  it('disables and enables a key everywhere within a second each way; a disabled key is listed as such', async () => {
    const created = await createKey({ name: 'Switchable' });
    await warm(created.key);

    const disabledAt = Date.now();
    const disabled = expectStatus(await manage('PATCH', `${keysPath()}/${created.id}`, { enabled: false }), 200);
    expect(await everywhere(created.key, '401 invalid_api_key', disabledAt)).toBeLessThan(PROPAGATION_MS);
    expect(disabled.body).toMatchObject({ status: 'disabled', enabled: false });
    expect(await listed(created.id)).toMatchObject({ status: 'disabled', enabled: false });

    const enabledAt = Date.now();
    expectStatus(await manage('PATCH', `${keysPath()}/${created.id}`, { enabled: true }), 200);
    expect(await everywhere(created.key, '200', enabledAt)).toBeLessThan(PROPAGATION_MS);
    expect(await listed(created.id)).toMatchObject({ status: 'active', enabled: true });
  }, 30_000);

  it('rolls a key: the new one inherits name, expiry and allow-list; the old one works through the grace period, then is cut off everywhere', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const old = await createKey({ name: 'Zapier', expiresAt, allowedIps: ['127.0.0.0/8', '2001:db8::/32'] });
    await warm(old.key);

    const rolled = expectStatus(await manage('POST', `${keysPath()}/${old.id}/roll`, { gracePeriodSeconds: 2 }), 201);
    const graceEnd = Date.now() + 2_000;
    expect(rolled.headers.get('cache-control')).toBe('no-store');
    expect(rolled.body).toMatchObject({
      name: 'Zapier',
      expiresAt,
      allowedIps: ['127.0.0.0/8', '2001:db8::/32'],
      rolledFrom: old.id,
      status: 'active',
    });
    expect(rolled.body.key).toMatch(/^cbk_/);
    expect(rolled.body.id).not.toBe(old.id);
    // Both work during the grace period; the old one is listed with its cut-off as its end.
    expect(await answers(old.key)).toEqual(['200', '200']);
    await warm(rolled.body.key);
    const oldListed = await listed(old.id);
    expect(Date.parse(oldListed?.expiresAt as string)).toBeLessThanOrEqual(graceEnd);

    // Rolling the old key again is refused: its successor is the one to roll.
    const again = await manage('POST', `${keysPath()}/${old.id}/roll`, {});
    expect([again.status, again.body.error.code]).toEqual([409, 'conflict']);

    await untilInstant(Date.parse(oldListed?.expiresAt as string));
    expect(await everywhere(old.key, '401 invalid_api_key', Date.parse(oldListed?.expiresAt as string))).toBeLessThan(PROPAGATION_MS);
    expect(await answers(rolled.body.key)).toEqual(['200', '200']);
    expect(await listed(old.id)).toBeUndefined();
    const gone = await manage('POST', `${keysPath()}/${old.id}/roll`, {});
    expect([gone.status, gone.body.error.code]).toEqual([404, 'key_not_found']);
  }, 30_000);

  it('rolls past the 10-key limit; rolling twice in a row cuts the first old key off at once', async () => {
    const { body: full } = expectStatus(
      await gateways[0].admin('POST', `/accounts/${tenant.account.id}/chatbots`, { name: 'Full bot' }),
      201,
    );
    const path = `/v1/chatbots/${full.id}/api-keys`;
    const keys: { id: string; key: string }[] = [];
    for (let i = 0; i < 10; i++) keys.push(expectStatus(await manage('POST', path, { name: `Key ${i}` }), 201).body);
    const first = expectStatus(await manage('POST', `${path}/${keys[0].id}/roll`, { gracePeriodSeconds: 600 }), 201).body;
    // The old key counts until its grace period ends: no 11th key by creation.
    const eleventh = await manage('POST', path, {});
    expect([eleventh.status, eleventh.body.error.code]).toEqual([409, 'key_limit_reached']);

    const use = (key: string) =>
      Promise.all(gateways.map((gateway) => gateway.call('GET', `/api/v1/chatbots/${full.id}`, { key }))).then((all) =>
        all.map((answer) => answer.status),
      );
    expect(await use(keys[0].key)).toEqual([200, 200]);
    const secondRollAt = Date.now();
    const second = expectStatus(await manage('POST', `${path}/${first.id}/roll`, { gracePeriodSeconds: 600 }), 201).body;
    expect(second.rolledFrom).toBe(first.id);
    const cut = await eventually(
      () => use(keys[0].key),
      (all) => all.every((status) => status === 401),
      { timeoutMs: PROPAGATION_MS + 1_000 },
    );
    expect(cut).toEqual([401, 401]);
    expect(Date.now() - secondRollAt).toBeLessThan(PROPAGATION_MS);
    expect(await use(first.key)).toEqual([200, 200]);
    expect(await use(second.key)).toEqual([200, 200]);

    // No grace period: the old key is revoked at once.
    const instantAt = Date.now();
    expectStatus(await manage('POST', `${path}/${keys[1].id}/roll`), 201);
    const instant = await eventually(
      () => use(keys[1].key),
      (all) => all.every((status) => status === 401),
      { timeoutMs: PROPAGATION_MS + 1_000 },
    );
    expect(instant).toEqual([401, 401]);
    expect(Date.now() - instantAt).toBeLessThan(PROPAGATION_MS);

    for (const body of [{ gracePeriodSeconds: 604_801 }, { gracePeriodSeconds: -1 }, { gracePeriodSeconds: 1.5 }, { grace: 5 }]) {
      const refused = await manage('POST', `${path}/${keys[2].id}/roll`, body);
      expect([refused.status, refused.body.error.code]).toEqual([400, 'invalid_request']);
    }
  }, 30_000);

  it('answers 409 key_expired for rolling an expired key', async () => {
    const expiresAt = Date.now() + 1_000;
    const created = await createKey({ expiresAt: new Date(expiresAt).toISOString() });
    await untilInstant(expiresAt + 1);
    const refused = await manage('POST', `${keysPath()}/${created.id}/roll`, { gracePeriodSeconds: 60 });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'key_expired']);
  }, 15_000);

  it('judges IPv4, IPv6 and CIDR allow-lists on the client address, with changes applied everywhere within a second', async () => {
    // The gateways see these requests from 127.0.0.1.
    const created = await createKey({ allowedIps: ['203.0.113.7/24', '2001:DB8:0:0:0:0:0:1'] });
    expect(created.allowedIps).toEqual(['203.0.113.0/24', '2001:db8::1']);
    expect(await answers(created.key)).toEqual(['403 ip_not_allowed', '403 ip_not_allowed']);

    const steps: [allowedIps: string[] | null, expected: string, canonical: string[] | null][] = [
      [['10.0.0.0/8', '127.0.0.1/8'], '200', ['10.0.0.0/8', '127.0.0.0/8']],
      [['2001:db8::/32'], '403 ip_not_allowed', ['2001:db8::/32']],
      // The IPv4-mapped IPv6 spelling is the IPv4 address.
      [['::ffff:127.0.0.1', 'fe80::1'], '200', ['127.0.0.1', 'fe80::1']],
      [['127.0.0.2'], '403 ip_not_allowed', ['127.0.0.2']],
      [null, '200', null],
    ];
    for (const [allowedIps, expected, canonical] of steps) {
      const changedAt = Date.now();
      const changed = expectStatus(await manage('PATCH', `${keysPath()}/${created.id}`, { allowedIps }), 200);
      expect(changed.body.allowedIps).toEqual(canonical);
      expect(await everywhere(created.key, expected, changedAt)).toBeLessThan(PROPAGATION_MS);
    }

    const tooMany = Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`);
    for (const allowedIps of [[], tooMany, ['300.1.1.1'], ['10.0.0.0/33'], ['fe80::1%eth0'], ['example.com'], '10.0.0.1']) {
      const refused = await manage('PATCH', `${keysPath()}/${created.id}`, { allowedIps });
      expect([refused.status, refused.body.error.code]).toEqual([400, 'invalid_request']);
    }
  }, 30_000);

  it('gives user-level keys the same lifecycle, on the management API too', async () => {
    const created = expectStatus(await manage('POST', '/v1/api-keys', { name: 'Ops', allowedIps: ['198.51.100.0/24'] }), 201).body;
    const onApi = await gateways[1].call('GET', '/v1/chatbots', { key: created.key });
    expect([onApi.status, onApi.body.error.code]).toEqual([403, 'ip_not_allowed']);
    expectStatus(await manage('PATCH', `/v1/api-keys/${created.id}`, { allowedIps: null, enabled: false }), 200);
    const disabled = await eventually(
      () => gateways[1].call('GET', '/v1/chatbots', { key: created.key }),
      (answer) => answer.status === 401,
      { timeoutMs: 2_000 },
    );
    expect(disabled.body.error.code).toBe('invalid_api_key');
    expectStatus(await manage('PATCH', `/v1/api-keys/${created.id}`, { enabled: true }), 200);
    await eventually(
      () => gateways[1].call('GET', '/v1/chatbots', { key: created.key }),
      (answer) => answer.status === 200,
      { timeoutMs: 2_000 },
    );

    const rolled = expectStatus(await manage('POST', `/v1/api-keys/${created.id}/roll`, { gracePeriodSeconds: 0 }), 201).body;
    expect(rolled).toMatchObject({ type: 'user', chatbotId: null, name: 'Ops', rolledFrom: created.id });
    expect(rolled.key).toMatch(/^usk_/);
    const refused = await eventually(
      () => gateways[1].call('GET', '/v1/chatbots', { key: created.key }),
      (answer) => answer.status === 401,
      { timeoutMs: 2_000 },
    );
    expect(refused.status).toBe(401);
    expectStatus(await gateways[1].call('GET', '/v1/chatbots', { key: rolled.key }), 200);
    expect(await listed(created.id, '/v1/api-keys')).toBeUndefined();
    expect(await listed(rolled.id, '/v1/api-keys')).toMatchObject({ status: 'active' });
  }, 30_000);
});
