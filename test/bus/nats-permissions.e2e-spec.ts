import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startPrivateNats, startTestSystem, type PausableServer, type TestSystem, eventually } from '@app/testing';
import { ROOT } from '../../scripts/system.mjs';
import { expectStatus, GatewayClient } from '../client.js';
import { callChatbot, createChatbotKey, usageTotal } from '../faults/fault-kit.js';

/** The file shipped for docker compose and k8s, used as is: only the passwords come from the environment. */
const SHIPPED_CONFIG = join(ROOT, 'k8s', 'nats', 'nats-server.conf');
const USERS = ['gateway', 'key-management', 'auth-verifier', 'usage-tracker', 'internal-service'] as const;
type User = (typeof USERS)[number];
const SERVICES = USERS.filter((user): user is Exclude<User, 'internal-service'> => user !== 'internal-service');

interface Violation {
  operation: string;
  subject: string;
}

interface Client {
  nc: NatsConnection;
  violations: Violation[];
}

/**
 * NATS is a trust boundary: with the shipped server configuration, each service's user may do
 * exactly what that service needs. Every denial below is checked both ways: the server reports a
 * permission violation to the offender, and the message never reaches anyone (or, for a refused
 * subscription, a message published there never reaches the offender).
 */
describe('NATS with the shipped per-service permissions', () => {
  // The server parses a `$VARIABLE` from its environment as a config value: a password must start with a letter (see docs/operations.md).
  const passwords = Object.fromEntries(USERS.map((user) => [user, `p${randomBytes(18).toString('hex')}`])) as Record<User, string>;
  const clients: NatsConnection[] = [];
  let nats: PausableServer;
  let system: TestSystem;
  let client: GatewayClient;

  async function as(user: User, password = passwords[user]): Promise<Client> {
    // Each service reads its replies under an inbox of its own; other internal services use the default.
    const inboxPrefix = user === 'internal-service' ? undefined : `_INBOX_${user}`;
    const nc = await connect({ servers: nats.url, user, pass: password, inboxPrefix, maxReconnectAttempts: 0 });
    clients.push(nc);
    const violations: Violation[] = [];
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type !== 'error' || status.error.name !== 'PermissionViolationError') continue;
        const { operation, subject } = status.error as unknown as Violation;
        violations.push({ operation, subject });
      }
    })();
    return { nc, violations };
  }

  function violated(who: Client, operation: 'publish' | 'subscription', subject: string): Promise<Violation[]> {
    return eventually(
      async () => who.violations,
      (seen) => seen.some((violation) => violation.operation === operation && violation.subject === subject),
      { timeoutMs: 2_000, what: `a ${operation} violation on ${subject}` },
    );
  }

  function listen(who: Client, subject: string): Msg[] {
    const received: Msg[] = [];
    who.nc.subscribe(subject, {
      callback: (error, msg) => {
        if (!error) received.push(msg);
      },
    });
    return received;
  }

  /** `user` publishes (or requests) on `subject`; `listener`, who may read it, must see nothing. */
  async function expectPublishDenied(user: User, subject: string, listenerUser: User): Promise<void> {
    const [offender, listener] = [await as(user), await as(listenerUser)];
    const received = listen(listener, subject);
    await listener.nc.flush();

    offender.nc.publish(subject, JSON.stringify({ key: 'cbk_forged' }));
    await offender.nc.flush();
    await listener.nc.flush();

    await violated(offender, 'publish', subject);
    expect(received).toHaveLength(0);
    expect(listener.violations).toEqual([]);
  }

  /** `user` subscribes to `subject`; a message `publisherUser` may publish there never reaches it. */
  async function expectSubscribeDenied(user: User, subject: string, publisherUser?: User, publishOn = subject): Promise<void> {
    const offender = await as(user);
    const received = listen(offender, subject);
    await offender.nc.flush();
    await violated(offender, 'subscription', subject);
    if (!publisherUser) return;

    const publisher = await as(publisherUser);
    publisher.nc.publish(publishOn, '{}');
    await publisher.nc.flush();
    await offender.nc.flush();
    expect(received).toHaveLength(0);
    expect(publisher.violations).toEqual([]);
  }

  /** Messages the key.used stream ever stored (its last sequence), read as the gateway, which may. */
  async function keyUsedStored(): Promise<number> {
    const jsm = await jetstreamManager((await as('gateway')).nc);
    return (await jsm.streams.info('KEY_USED')).state.last_seq;
  }

  /** Nobody reads usage but through the stream: a forged use or batch must be refused and never stored. */
  async function expectKeyUsedDenied(user: User): Promise<void> {
    const before = await keyUsedStored();
    const offender = await as(user);
    const forged = { keyId: 'k', accountId: 'a', chatbotId: null, at: new Date().toISOString(), count: 1_000_000 };
    offender.nc.publish('key.used', JSON.stringify(forged));
    offender.nc.publish('key.used.batch', JSON.stringify({ uses: [forged, forged] }));
    await offender.nc.flush();
    await violated(offender, 'publish', 'key.used');
    await violated(offender, 'publish', 'key.used.batch');
    expect(await keyUsedStored()).toBe(before);
  }

  beforeAll(async () => {
    const serverEnv = Object.fromEntries(USERS.map((user) => [`NATS_${user.toUpperCase().replace('-', '_')}_PASSWORD`, passwords[user]]));
    nats = await startPrivateNats({ configFile: SHIPPED_CONFIG, env: serverEnv });
    const serviceEnv = Object.fromEntries(SERVICES.map((user) => [user, { NATS_USER: user, NATS_PASSWORD: passwords[user] }]));
    // The shipped file names subjects without a prefix (the default), so this run uses none: the server is its own.
    system = await startTestSystem(
      { LOG_LEVEL: 'info', NATS_SUBJECT_PREFIX: '' },
      { servers: { postgresUrl: '', redisUrl: '', natsUrl: nats.url }, serviceEnv, privateNats: true },
    );
    client = new GatewayClient(system.gatewayUrl, system.adminToken);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((nc) => nc.close()));
    await system?.stop();
    await nats?.destroy();
  }, 60_000);

  it('works end to end with every service on its own user: keys verified, uses counted, revocation within a second', async () => {
    const tenant = await client.provision('standard', ['Support bot']);
    const chatbotId = tenant.chatbots[0].id;
    const key = await createChatbotKey(client, tenant, chatbotId);

    for (let i = 0; i < 3; i++) expectStatus(await callChatbot(client, key.key, chatbotId), 200);
    await eventually(
      () => usageTotal(client, tenant, chatbotId, key.id),
      (total) => total === 3,
      { timeoutMs: 15_000, what: 'three uses counted' },
    );

    expectStatus(await client.call('DELETE', `/v1/chatbots/${chatbotId}/api-keys/${key.id}`, { key: tenant.userKey }), 204);
    const revokedAt = Date.now();
    await eventually(
      async () => (await callChatbot(client, key.key, chatbotId)).status,
      (status) => status === 401,
      { timeoutMs: 1_000, what: 'revoked key refused' },
    );
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
  }, 60_000);

  it('lets another internal service ask auth.verify, and answers it', async () => {
    const tenant = await client.provision('standard', ['Support bot']);
    const chatbotId = tenant.chatbots[0].id;
    const key = await createChatbotKey(client, tenant, chatbotId);
    const internal = await as('internal-service');

    const reply = await internal.nc.request('auth.verify', JSON.stringify({ key: key.key, chatbotId }), { timeout: 2_000 });

    expect(reply.json()).toMatchObject({ valid: true, allowed: true, keyId: key.id, chatbotId });
    expect(internal.violations).toEqual([]);
  });

  it('refuses a client without credentials or with another user’s password', async () => {
    await expect(connect({ servers: nats.url, maxReconnectAttempts: 0 })).rejects.toThrow(/authorization/i);
    await expect(as('gateway', passwords['auth-verifier'])).rejects.toThrow(/authorization/i);
  });

  describe('an internal service', () => {
    it('cannot read auth.verify (presented keys) nor answer it', () => expectSubscribeDenied('internal-service', 'auth.verify', 'gateway'));
    it.each(['keys.manage.key.create', 'keys.admin.account.create', 'keys.lookup.key', 'keys.manage.key.revoke'])(
      'cannot request %s',
      (subject) => expectPublishDenied('internal-service', subject, 'key-management'),
    );
    it('cannot publish key events', () => expectPublishDenied('internal-service', 'keys.events.key-revoked', 'gateway'));
    it('cannot forge key.used', () => expectKeyUsedDenied('internal-service'));
    it('cannot listen to key events', () =>
      expectSubscribeDenied('internal-service', 'keys.events.>', 'key-management', 'keys.events.heartbeat'));
  });

  describe('the gateway', () => {
    it('cannot answer auth.verify', () => expectSubscribeDenied('gateway', 'auth.verify', 'internal-service'));
    it('cannot answer key requests', () => expectSubscribeDenied('gateway', 'keys.manage.>', 'gateway', 'keys.manage.key.list'));
    it('cannot publish key events', () => expectPublishDenied('gateway', 'keys.events.plan-changed', 'auth-verifier'));
    it.each(['_INBOX.>', '_INBOX_auth-verifier.>', '>'])('cannot read other services’ replies or traffic: %s', (subject) =>
      expectSubscribeDenied('gateway', subject),
    );
  });

  describe('the auth-verifier', () => {
    it('cannot publish key events', () => expectPublishDenied('auth-verifier', 'keys.events.key-created', 'gateway'));
    it('cannot forge key.used', () => expectKeyUsedDenied('auth-verifier'));
    it('cannot drive key-management', () => expectPublishDenied('auth-verifier', 'keys.manage.key.create', 'key-management'));
  });

  describe('key-management', () => {
    it('cannot answer auth.verify', () => expectSubscribeDenied('key-management', 'auth.verify', 'gateway'));
    it('cannot forge key.used', () => expectKeyUsedDenied('key-management'));
  });

  describe('the usage-tracker', () => {
    it('cannot forge key.used', () => expectKeyUsedDenied('usage-tracker'));
    it('cannot delete the usage stream (it may delete only its own consumer)', async () => {
      const tracker = await as('usage-tracker');
      tracker.nc.publish('$JS.API.STREAM.DELETE.KEY_USED');
      await tracker.nc.flush();
      await violated(tracker, 'publish', '$JS.API.STREAM.DELETE.KEY_USED');
      expect(await keyUsedStored()).toBeGreaterThan(0);
    });
    it('cannot answer auth.verify', () => expectSubscribeDenied('usage-tracker', 'auth.verify', 'gateway'));
    it('cannot publish key events', () => expectPublishDenied('usage-tracker', 'keys.events.key-revoked', 'gateway'));
  });
});
