import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { usageStreamNames } from '@app/common';
import { generateApiKey, hashApiKey, Subjects } from '@app/contracts';
import { startTestSystem, type TestSystem, eventually } from '@app/testing';
import { expectStatus, GatewayClient } from './client.js';
import { BusRecorder, everythingStored, firstLeak, type Found } from './attacks/secret-scan.js';

/**
 * A full run through every service (each its own process), then a scan of everything the
 * system stored, carried or logged: Postgres (every table), Redis (every key under the run's
 * prefix, read by type), the run's JetStream streams, every message on the run's subjects and
 * reply inboxes, and every service's log. No plaintext key may appear anywhere, except inside
 * the `auth.verify` requests that carry a presented key to the verifier (docs/api.md, Errors).
 */
describe('no plaintext key at rest, on the bus or in a log', () => {
  let system: TestSystem;
  let recorder: BusRecorder;
  let client: GatewayClient;
  /** Every key that was issued or presented during the run, valid or not. */
  const keys: string[] = [];
  /** Keys the gateway asked the verifier about: they must show up in auth.verify requests (and nowhere else). */
  const verified: string[] = [];
  let stored: Record<string, Found[]>;

  beforeAll(async () => {
    system = await startTestSystem();
    recorder = await BusRecorder.start(system.env.natsUrl, system.env.subjectPrefix);
    client = new GatewayClient(system.gatewayUrl, system.adminToken);
    await fullRun();
    stored = await everythingStored(system, recorder);
  }, 120_000);

  afterAll(async () => {
    await recorder?.stop();
    await system?.stop();
  });

  async function fullRun(): Promise<void> {
    const tenant = await client.provision('entry');
    const [supportBot, salesBot] = tenant.chatbots.map((chatbot: { id: string }) => chatbot.id);
    keys.push(tenant.userKey);
    const created: { id: string; key: string }[] = [];
    for (const chatbotId of [supportBot, supportBot, salesBot]) {
      const answer = expectStatus(
        await client.call('POST', `/v1/chatbots/${chatbotId}/api-keys`, { key: tenant.userKey, body: { name: 'Zapier' } }),
        201,
      );
      created.push({ id: answer.body.id, key: answer.body.key });
    }
    const userKey = expectStatus(await client.call('POST', '/v1/api-keys', { key: tenant.userKey, body: { name: 'CI' } }), 201).body;
    const legacyKey = `legacy-${generateApiKey('user').slice(4)}`;
    const legacyByHash = `legacy-hashed-${generateApiKey('user').slice(4)}`;
    expectStatus(await client.admin('POST', `/users/${tenant.owner.id}/legacy-keys`, { key: legacyKey }), 201);
    expectStatus(await client.admin('POST', `/users/${tenant.owner.id}/legacy-keys`, { sha256: hashApiKey(legacyByHash) }), 201);
    keys.push(...created.map(({ key }) => key), userKey.key, legacyKey, legacyByHash);

    // Uses, in every way a client presents a key, on every kind of route.
    for (const { key } of created.slice(0, 2)) {
      expectStatus(await client.call('GET', `/api/v1/chatbots/${supportBot}/conversations?page=1`, { key }), 200);
      expectStatus(await client.call('GET', `/api/v1/chatbots/${supportBot}/x`, { headers: { 'x-api-key': key } }), 200);
      expectStatus(await client.call('POST', '/api/v1/chat', { key, body: { chatbotId: supportBot, message: 'hello' } }), 200);
      // Refused: out of scope, and a key in the query string only.
      expectStatus(await client.call('GET', `/api/v1/chatbots/${salesBot}/x`, { key }), 403);
      expectStatus(await client.call('GET', `/api/v1/chatbots/${supportBot}/x?api_key=${key}&key=${key}`), 401);
    }
    for (const key of [userKey.key, legacyKey, legacyByHash, tenant.userKey]) {
      expectStatus(await client.call('GET', '/api/v1/account/usage', { key }), 200);
      expectStatus(await client.call('GET', `/api/v1/chatbots/${salesBot}/x`, { key }), 200);
    }
    expectStatus(await client.call('GET', '/v1/chatbots', { key: legacyKey }), 200);
    verified.push(created[0].key, userKey.key, legacyKey, legacyByHash);

    // Management: rename, list, usage, revoke; then the revoked keys are presented again.
    const keyPath = `/v1/chatbots/${supportBot}/api-keys/${created[0].id}`;
    expectStatus(await client.call('PATCH', keyPath, { key: tenant.userKey, body: { name: 'Renamed' } }), 200);
    expectStatus(await client.call('GET', `/v1/chatbots/${supportBot}/api-keys`, { key: tenant.userKey }), 200);
    expectStatus(await client.call('GET', `${keyPath}/usage?interval=minute`, { key: tenant.userKey }), 200);
    expectStatus(await client.call('DELETE', keyPath, { key: tenant.userKey }), 204);
    expectStatus(await client.call('DELETE', `/v1/api-keys/${userKey.id}`, { key: userKey.key }), 204);
    const revokedRefused = await eventually(
      () => client.call('GET', `/api/v1/chatbots/${supportBot}/x`, { key: created[0].key }),
      (answer) => answer.status === 401,
      { timeoutMs: 2_000 },
    );
    expect(revokedRefused.status).toBe(401);
    expectStatus(await client.call('GET', '/v1/chatbots', { key: userKey.key }), 401);

    // Keys that never existed, near misses, and keys put where no key belongs.
    const unknown = [generateApiKey('chatbot'), generateApiKey('user'), `unknown-legacy-${generateApiKey('user').slice(4)}`];
    const nearMiss = `${created[1].key.slice(0, -1)}${created[1].key.endsWith('A') ? 'B' : 'A'}`;
    keys.push(...unknown, nearMiss);
    verified.push(unknown[0]);
    for (const key of [...unknown, nearMiss]) {
      expectStatus(await client.call('GET', `/api/v1/chatbots/${supportBot}/x`, { key }), 401);
      expectStatus(await client.call('GET', '/v1/chatbots', { key }), 401);
    }
    expectStatus(await client.call('POST', '/v1/api-keys', { key: tenant.userKey, body: `{"name":${created[1].key}}` }), 400);
    expectStatus(await client.call('POST', '/v1/api-keys', { key: tenant.userKey, body: { [created[1].key]: 'x' } }), 400);
    expect((await client.call('GET', `/v1/chatbots/${created[1].key}/api-keys`, { key: tenant.userKey })).status).toBe(404);
    expect((await client.call('DELETE', `/v1/api-keys/${created[1].key}`, { key: tenant.userKey })).status).toBe(404);
    expect((await client.call('GET', `/api/v1/chatbots/${created[1].key}/x`, { key: tenant.userKey })).status).toBe(403);
    expect((await client.call('POST', '/api/v1/chat', { key: created[1].key, body: { chatbotId: created[1].key } })).status).toBe(403);
    expect((await client.call('POST', '/admin/v1/accounts', { key: created[1].key, body: { name: 'x', plan: 'free' } })).status).toBe(401);
    expect(
      (
        await client.call('POST', `/admin/v1/users/${tenant.owner.id}/legacy-keys`, {
          key: system.adminToken,
          body: { sha256: created[1].key },
        })
      ).status,
    ).toBe(400);

    // Everything counted, then the tracker stopped: later uses wait in the stream, where the scan reads them.
    const usage = await eventually(
      () => client.call('GET', `/v1/chatbots/${supportBot}/api-keys/${created[1].id}/usage?interval=minute`, { key: tenant.userKey }),
      (answer) => answer.body?.total === 3,
      { timeoutMs: 5000 },
    );
    expect(usage.body.total).toBe(3);
    await stopService('usage-tracker');
    const jsm = await jetstreamManager(recorder.connection);
    const names = usageStreamNames({ subject: (subject) => `${system.env.subjectPrefix}.${Subjects[subject]}` });
    const publishedBefore = (await jsm.streams.info(names.stream)).state.last_seq;
    for (let i = 0; i < 5; i++) expectStatus(await client.call('GET', `/api/v1/chatbots/${supportBot}/x`, { key: created[1].key }), 200);

    // Brute force until throttled (last: this client stays throttled): refusals and throttle log nothing secret either.
    const guesses = Array.from({ length: 55 }, () => generateApiKey('chatbot'));
    keys.push(...guesses);
    const statuses = [];
    for (const key of guesses) statuses.push((await client.call('GET', `/api/v1/chatbots/${supportBot}/x`, { key })).status);
    expect(statuses).toContain(429);

    // Everything the run sent has landed where the scan reads it: the last guess asked of the verifier has reached
    // the recorder, and the uses made after the tracker stopped wait in the stream.
    const lastAsked = guesses[statuses.lastIndexOf(401)];
    await eventually(
      async () => firstLeak(recorder.verifyRequests, [lastAsked]),
      (found) => found !== null,
      { what: 'the last verify request recorded' },
    );
    await eventually(
      async () => {
        const last = await jsm.streams.getMessage(names.stream, { last_by_subj: names.batchSubject }).catch(() => null);
        return last !== null && last.seq > publishedBefore && last.string().includes(created[1].id);
      },
      Boolean,
      { what: 'the uses made after the tracker stopped, in the stream' },
    );
  }

  async function stopService(name: string): Promise<void> {
    const service = system.running.services.find((candidate: { name: string }) => candidate.name === name);
    if (!service || service.child.exitCode !== null) throw new Error(`${name} is not running`);
    await new Promise<void>((resolve) => {
      service.child.once('exit', () => resolve());
      service.child.kill('SIGTERM');
    });
  }

  it('scanned real content everywhere (the scan can see a key if one is there)', () => {
    expect(keys.length).toBeGreaterThan(60);
    expect(stored.postgres.length).toBeGreaterThan(10);
    expect(stored.redis.length).toBeGreaterThan(0);
    expect(stored.logs.length).toBeGreaterThan(10);
    expect(stored.bus.some(({ where }) => where.endsWith('.key.used') || where.endsWith('.key.used.batch'))).toBe(true);
    expect(stored.jetstream.filter(({ where }) => where.includes('#')).length).toBeGreaterThanOrEqual(1);
    // Hashes are what is kept: the tables do hold them, so a plaintext column would be seen too.
    expect(stored.postgres.some(({ text }) => text.includes(hashApiKey(keys[0])))).toBe(true);
    // The auth.verify requests do carry keys: the recorder sees every message the verifier gets.
    for (const key of verified) expect(firstLeak(recorder.verifyRequests, [key])).not.toBeNull();
  });

  it.each(['postgres', 'redis', 'jetstream', 'bus', 'logs'])('finds no plaintext key in %s', (place) => {
    expect(firstLeak(stored[place], keys)).toBeNull();
  });
});
