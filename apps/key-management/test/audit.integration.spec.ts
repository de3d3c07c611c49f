import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { AccountView, Actor, AuditEventView, ChangeOrigin, ChatbotView, UserView } from '@app/contracts';
import { accountPayload, chatbotPayload, keyMaterial, userPayload } from '@app/testing';
import { purgeAuditEvents } from '../src/audit/retention.js';
import { outcome, startKeyManagementUnderTest, type KeyManagementUnderTest } from './key-management.harness.js';

const origin = (requestId: string): ChangeOrigin => ({ requestId, ip: '203.0.113.7' });

describe('the audit log: one event per change, in the same transaction, readable by who may see it', () => {
  let km: KeyManagementUnderTest;
  let db: pg.Client;
  let account: AccountView;
  let support: ChatbotView;
  let sales: ChatbotView;
  let owner: UserView;
  let member: UserView;
  let ownerActor: Actor;
  let memberActor: Actor;

  const eventsOf = async (accountId: string, filter: Record<string, unknown> = {}): Promise<AuditEventView[]> =>
    (await km.bus.request('adminListAuditEvents', { accountId, limit: 200, ...filter })).data;

  beforeAll(async () => {
    km = await startKeyManagementUnderTest();
    db = new pg.Client({ connectionString: km.databaseUrl });
    await db.connect();
    account = await km.bus.request('adminCreateAccount', { ...accountPayload({ plan: 'standard' }), origin: origin('req-account') });
    support = await km.bus.request('adminCreateChatbot', {
      ...chatbotPayload(account.id, { name: 'Support' }),
      origin: origin('req-support'),
    });
    sales = await km.bus.request('adminCreateChatbot', chatbotPayload(account.id, { name: 'Sales' }));
    owner = await km.bus.request('adminCreateUser', userPayload(account.id, 'owner'));
    member = await km.bus.request(
      'adminCreateUser',
      userPayload(account.id, 'member', { ssoSubject: 'okta|audit-member', chatbotIds: [support.id] }),
    );
    ownerActor = { userId: owner.id };
    memberActor = { ssoSubject: 'okta|audit-member' };
  });

  afterAll(async () => {
    await db?.end();
    await km?.stop();
  });

  it('records every admin and management change with its actor, request id and client address, and never a key or hash', async () => {
    const chatbotKey = keyMaterial('chatbot');
    const created = await km.bus.request('createKey', {
      actor: memberActor,
      chatbotId: support.id,
      name: 'Zapier',
      keyHash: chatbotKey.keyHash,
      prefix: chatbotKey.prefix,
      origin: origin('req-create'),
    });
    await km.bus.request('renameKey', {
      actor: ownerActor,
      chatbotId: support.id,
      keyId: created.id,
      name: 'Make',
      origin: origin('req-rename'),
    });
    await km.bus.request('revokeKey', { actor: ownerActor, chatbotId: support.id, keyId: created.id, origin: origin('req-revoke') });
    const userKey = keyMaterial('user');
    const adminKey = await km.bus.request('adminCreateUserKey', {
      userId: owner.id,
      name: 'Ops',
      keyHash: userKey.keyHash,
      prefix: userKey.prefix,
    });
    const legacy = await km.bus.request('adminImportLegacyKey', { userId: owner.id, keyHash: keyMaterial('user').keyHash, prefix: null });
    await km.bus.request('adminSetUserChatbots', { userId: member.id, chatbotIds: [support.id, sales.id] });
    await km.bus.request('adminUpdateAccount', { accountId: account.id, plan: 'professional' });
    const doomed = await km.bus.request('adminCreateChatbot', chatbotPayload(account.id, { name: 'Doomed' }));
    const doomedKey = await km.bus.request('createKey', { actor: ownerActor, chatbotId: doomed.id, name: 'Gone', ...hashOnly() });
    await km.bus.request('adminDeleteChatbot', { chatbotId: doomed.id });

    const events = await eventsOf(account.id);
    const summary = events.map((event) => [event.action, event.actor.type, event.keyId ?? event.chatbotId]).reverse();
    expect(summary).toEqual([
      ['account.created', 'admin', null],
      ['chatbot.created', 'admin', support.id],
      ['chatbot.created', 'admin', sales.id],
      ['user.created', 'admin', null],
      ['user.created', 'admin', null],
      ['key.created', 'sso', created.id],
      ['key.renamed', 'user', created.id],
      ['key.revoked', 'user', created.id],
      ['key.created', 'admin', adminKey.id],
      ['key.imported', 'admin', legacy.id],
      ['user.assignments_changed', 'admin', null],
      ['account.plan_changed', 'admin', null],
      ['chatbot.created', 'admin', doomed.id],
      ['key.created', 'user', doomedKey.id],
      // Deleting a chatbot revokes its keys in the same transaction: both are recorded.
      expect.arrayContaining(['admin']),
      expect.arrayContaining(['admin']),
    ]);
    expect(
      events
        .slice(0, 2)
        .map((event) => event.action)
        .sort(),
    ).toEqual(['chatbot.deleted', 'key.revoked']);

    const byAction = (action: string) => events.filter((event) => event.action === action);
    expect(byAction('key.created').find((event) => event.keyId === created.id)).toEqual({
      id: expect.any(String),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      action: 'key.created',
      actor: { type: 'sso', id: member.id },
      accountId: account.id,
      chatbotId: support.id,
      keyId: created.id,
      requestId: 'req-create',
      ip: '203.0.113.7',
      details: { type: 'chatbot', name: 'Zapier' },
    });
    expect(byAction('key.renamed')[0]).toMatchObject({
      actor: { type: 'user', id: owner.id },
      requestId: 'req-rename',
      details: { name: { old: 'Zapier', new: 'Make' } },
    });
    expect(byAction('account.created')[0]).toMatchObject({
      actor: { type: 'admin', id: null },
      requestId: 'req-account',
      ip: '203.0.113.7',
    });
    expect(byAction('account.plan_changed')[0]).toMatchObject({
      requestId: null,
      ip: null,
      details: { plan: { old: 'standard', new: 'professional' } },
    });
    expect(byAction('user.assignments_changed')[0].details).toEqual({
      userId: member.id,
      chatbotIds: { old: [support.id], new: [support.id, sales.id] },
    });
    expect(byAction('key.revoked').find((event) => event.keyId === doomedKey.id)).toMatchObject({
      chatbotId: doomed.id,
      details: { reason: 'chatbot_deleted' },
    });

    const stored = await db.query<{ row: string }>('SELECT row_to_json(e)::text AS row FROM audit_events e');
    const everything = stored.rows.map((row) => row.row).join('\n');
    for (const secret of [chatbotKey.key, chatbotKey.keyHash, userKey.key, userKey.keyHash]) expect(everything).not.toContain(secret);
  });

  describe('a failure injected between the change and its event leaves neither', () => {
    // Real failures in the real database, not mocks: a trigger makes the audit insert fail, and a
    // deferred constraint trigger makes the change itself fail at commit, after its event was written.
    beforeAll(async () => {
      await db.query(`CREATE FUNCTION fail_on_marker() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected failure'; END $$`);
      await db.query(`CREATE TRIGGER fail_audit_insert BEFORE INSERT ON audit_events FOR EACH ROW
        WHEN (NEW.details::text LIKE '%fail-the-audit%') EXECUTE FUNCTION fail_on_marker()`);
      await db.query(`CREATE CONSTRAINT TRIGGER fail_key_change_at_commit AFTER INSERT OR UPDATE ON api_keys
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.name = 'fail-the-change') EXECUTE FUNCTION fail_on_marker()`);
    });

    afterAll(async () => {
      await db.query('DROP TRIGGER fail_audit_insert ON audit_events');
      await db.query('DROP TRIGGER fail_key_change_at_commit ON api_keys');
      await db.query('DROP FUNCTION fail_on_marker()');
    });

    it('the event failing rolls the change back', async () => {
      const key = await km.bus.request('createKey', { actor: ownerActor, chatbotId: sales.id, name: 'Before', ...hashOnly() });
      const before = await eventsOf(account.id);

      expect(
        await outcome(km.bus.request('renameKey', { actor: ownerActor, chatbotId: sales.id, keyId: key.id, name: 'fail-the-audit' })),
      ).not.toBe('ok');
      expect(await km.bus.request('getKey', { actor: ownerActor, chatbotId: sales.id, keyId: key.id })).toMatchObject({ name: 'Before' });

      const material = keyMaterial('chatbot');
      expect(
        await outcome(
          km.bus.request('createKey', {
            actor: ownerActor,
            chatbotId: sales.id,
            name: 'fail-the-audit',
            keyHash: material.keyHash,
            prefix: material.prefix,
          }),
        ),
      ).not.toBe('ok');
      expect(await km.bus.request('lookupKey', { keyHash: material.keyHash })).toBeNull();

      expect(await eventsOf(account.id)).toEqual(before);
      expect(km.events.filter((event) => 'keyId' in event.event && event.event.keyId === key.id && event.subject === 'keyRenamed')).toEqual(
        [],
      );
    });

    it('the change failing (at commit, after its event was written) leaves no event', async () => {
      const key = await km.bus.request('createKey', { actor: ownerActor, chatbotId: sales.id, name: 'Steady', ...hashOnly() });
      const before = await eventsOf(account.id);

      expect(
        await outcome(km.bus.request('renameKey', { actor: ownerActor, chatbotId: sales.id, keyId: key.id, name: 'fail-the-change' })),
      ).not.toBe('ok');
      expect(await km.bus.request('getKey', { actor: ownerActor, chatbotId: sales.id, keyId: key.id })).toMatchObject({ name: 'Steady' });
      // A refusal by the rules (unknown key) is a failed change too: no event either.
      expect(await outcome(km.bus.request('revokeKey', { actor: ownerActor, chatbotId: support.id, keyId: key.id }))).toBe('key_not_found');

      expect(await eventsOf(account.id)).toEqual(before);
    });
  });

  it('lists newest first with filters and a cursor that stays stable while events are added', async () => {
    const other = await km.bus.request('adminCreateAccount', accountPayload());
    const bot = await km.bus.request('adminCreateChatbot', chatbotPayload(other.id));
    const otherOwner = await km.bus.request('adminCreateUser', userPayload(other.id, 'owner'));
    const actor = { userId: otherOwner.id };
    const keys = [];
    for (let i = 0; i < 5; i++) keys.push(await km.bus.request('createKey', { actor, chatbotId: bot.id, name: `k${i}`, ...hashOnly() }));
    const all = await eventsOf(other.id);
    expect(all.map((event) => event.action)).toEqual([
      ...Array(5).fill('key.created'),
      'user.created',
      'chatbot.created',
      'account.created',
    ]);

    const first = await km.bus.request('listAuditEvents', { actor, limit: 3 });
    expect(first.data).toEqual(all.slice(0, 3));
    await km.bus.request('renameKey', { actor, chatbotId: bot.id, keyId: keys[0].id, name: 'newer than the cursor' });
    const second = await km.bus.request('listAuditEvents', { actor, limit: 3, cursor: first.nextCursor! });
    const third = await km.bus.request('listAuditEvents', { actor, limit: 3, cursor: second.nextCursor! });
    expect([...second.data, ...third.data]).toEqual(all.slice(3));
    expect(third.nextCursor).toBeNull();

    expect((await eventsOf(other.id, { keyId: keys[2].id })).map((event) => event.action)).toEqual(['key.created']);
    expect((await eventsOf(other.id, { action: 'key.renamed' })).map((event) => event.keyId)).toEqual([keys[0].id]);
    expect((await eventsOf(other.id, { chatbotId: bot.id })).length).toBe(7);
    const middle = all[3].at;
    expect((await eventsOf(other.id, { to: middle })).every((event) => event.at < middle)).toBe(true);
    expect((await eventsOf(other.id, { from: middle })).every((event) => event.at >= middle)).toBe(true);
    expect(await eventsOf(other.id, { keyId: 'not-a-uuid' })).toEqual([]);

    expect(await outcome(km.bus.request('listAuditEvents', { actor, limit: 3, cursor: 'bm90LWEtY3Vyc29y' }))).toBe('invalid_request');
    expect(
      await outcome(km.bus.request('listAuditEvents', { actor, limit: 3, from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' })),
    ).toBe('invalid_request');
    expect(await outcome(km.bus.request('adminListAuditEvents', { accountId: '00000000-0000-4000-8000-000000000000', limit: 5 }))).toBe(
      'account_not_found',
    );
  });

  it("shows owners their account's events and members only their assigned chatbots' events", async () => {
    const owners = (await km.bus.request('listAuditEvents', { actor: ownerActor, limit: 200 })).data;
    expect(owners).toEqual(await eventsOf(account.id));

    await km.bus.request('adminSetUserChatbots', { userId: member.id, chatbotIds: [support.id] });
    const members = (await km.bus.request('listAuditEvents', { actor: memberActor, limit: 200 })).data;
    expect(members.length).toBeGreaterThan(0);
    expect(members.every((event) => event.chatbotId === support.id)).toBe(true);
    expect(members).toEqual(owners.filter((event) => event.chatbotId === support.id));
    expect((await km.bus.request('listAuditEvents', { actor: memberActor, limit: 200, chatbotId: sales.id })).data).toEqual([]);
  });

  it('revokes the live keys of a leak report as the system, audited as key.leaked, and labels each token', async () => {
    const live = keyMaterial('chatbot');
    const key = await km.bus.request('createKey', {
      actor: ownerActor,
      chatbotId: support.id,
      name: 'Leaky',
      keyHash: live.keyHash,
      prefix: live.prefix,
    });
    const unknown = keyMaterial('user');
    const where = { url: 'https://github.com/acme/app/blob/main/.env', source: 'content' };
    const reply = await km.bus.request('reportLeakedKeys', {
      origin: origin('req-leak'),
      tokens: [
        { keyHash: live.keyHash, ...where },
        { keyHash: unknown.keyHash, ...where },
        { keyHash: live.keyHash, url: 'https://gist.github.com/x', source: 'gist' },
      ],
    });
    expect(reply).toEqual({ revoked: [true, false, true] });
    expect(await km.bus.request('lookupKey', { keyHash: live.keyHash })).toBeNull();
    expect(km.events).toContainEqual({
      subject: 'keyRevoked',
      event: { keyId: key.id, keyHash: live.keyHash, accountId: account.id, chatbotId: support.id },
    });
    expect(await eventsOf(account.id, { keyId: key.id, action: 'key.leaked' })).toEqual([
      expect.objectContaining({ actor: { type: 'system', id: null }, chatbotId: support.id, requestId: 'req-leak', details: where }),
    ]);

    expect(await km.bus.request('reportLeakedKeys', { tokens: [{ keyHash: live.keyHash, ...where }] })).toEqual({ revoked: [false] });
  });

  it('is append-only: updates, deletes and truncation are refused; only the retention purge deletes, and only old events', async () => {
    for (const statement of ['UPDATE audit_events SET action = action', 'DELETE FROM audit_events', 'TRUNCATE audit_events']) {
      await expect(db.query(statement)).rejects.toThrow(/append-only/);
    }
    const count = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_events')).rows[0].n);
    const before = await count();
    await db.query(
      `INSERT INTO audit_events (at, action, actor_type, account_id, details)
       VALUES (now() - interval '400 days', 'account.created', 'admin', $1, '{}'), (now() - interval '10 days', 'account.created', 'admin', $1, '{}')`,
      [account.id],
    );
    expect(await purgeAuditEvents(km.databaseUrl, 365)).toBe(1);
    expect(await count()).toBe(before + 1);
    expect(await purgeAuditEvents(km.databaseUrl, 5)).toBe(1);
    expect(await count()).toBe(before);
    await expect(purgeAuditEvents(km.databaseUrl, 0)).rejects.toThrow(/at least 1/);
    // The purge's permission ends with its transaction.
    await expect(db.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
  });

  it('leaves an application role with INSERT and SELECT no way to delete, even by setting the purge flag; EXECUTE lets it purge', async () => {
    const role = `audit_app_${new URL(km.databaseUrl).pathname.slice(1)}`.slice(0, 60);
    await db.query(`CREATE ROLE ${role} LOGIN`);
    const asRole = new URL(km.databaseUrl);
    asRole.username = role;
    asRole.password = '';
    const app = new pg.Client({ connectionString: asRole.toString() });
    try {
      await db.query(`GRANT USAGE ON SCHEMA public TO ${role}; GRANT INSERT, SELECT ON audit_events TO ${role}`);
      await app.connect();
      await app.query(
        `INSERT INTO audit_events (at, action, actor_type, account_id, details) VALUES (now() - interval '900 days', 'account.created', 'admin', $1, '{}')`,
        [account.id],
      );
      await app.query(`SELECT set_config('audit_events.purging', 'on', false)`);
      await expect(app.query('DELETE FROM audit_events')).rejects.toThrow(/permission denied/);
      await expect(app.query('SELECT audit_events_purge(800)')).rejects.toThrow(/permission denied/);
      await db.query(`GRANT EXECUTE ON FUNCTION audit_events_purge(integer) TO ${role}`);
      expect((await app.query('SELECT audit_events_purge(800) AS purged')).rows[0].purged).toBe('1');
    } finally {
      await app.end().catch(() => undefined);
      await db.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
    }
  });
});

function hashOnly() {
  const { keyHash, prefix } = keyMaterial('chatbot');
  return { keyHash, prefix };
}
