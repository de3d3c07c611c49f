import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createChatbotKey, startAttackSystem, type AttackSystem, type RawAnswer, type RawRequest, type Tenant } from './attack-system.js';
import { scopeViolations, type Reach } from './scope-oracle.js';
import { eventually } from '@app/testing';

/**
 * Hostile input on the data plane, through a real gateway to an upstream that records what it
 * gets. For every generated request: never a 5xx, and whatever reached the upstream targets
 * only what the presented key reaches, as the most lenient upstream reads the path, query and body
 * (matrix parameters cut, case folded, dots resolved, members of any case: see scope-oracle.ts).
 */
const RUNS = { numRuns: 250 };
const REFUSALS = new Set([400, 401, 403, 404, 413, 415, 429]);

let attack: AttackSystem;
let tenant: Tenant;
let other: Tenant;
let chatbotKey: { id: string; key: string };
const reach = new Map<string, Reach>();

beforeAll(async () => {
  attack = await startAttackSystem();
  tenant = await attack.helpers.provisionTenant('standard');
  other = await attack.helpers.provisionTenant('standard');
  chatbotKey = await createChatbotKey(attack.helpers, tenant, tenant.chatbots[0].id);
  const ownerKeys = await attack.helpers.call('GET', '/v1/api-keys', { credential: tenant.ownerKey });
  const ownerKeyId = ownerKeys.body.data[0].id as string;
  const [a, b] = tenant.chatbots.map((chatbot: { id: string }) => chatbot.id);
  reach.set(chatbotKey.id, {
    keyId: chatbotKey.id,
    type: 'chatbot',
    accountId: tenant.account.id,
    chatbots: new Set([a]),
    accountRoutes: false,
  });
  reach.set(ownerKeyId, { keyId: ownerKeyId, type: 'user', accountId: tenant.account.id, chatbots: new Set([a, b]), accountRoutes: true });
}, 60_000);

afterAll(async () => {
  await attack?.stop();
});

const chatbotA = () => tenant.chatbots[0].id as string;
const chatbotB = () => tenant.chatbots[1].id as string;
const foreignChatbot = () => other.chatbots[0].id as string;

const upper = (id: () => string) => () => id().toUpperCase();

/** Chatbot ids an attacker aims at: its own, a sibling, another tenant's (also upper-cased), nonsense. Resolved per run. */
const targetId = fc.constantFrom<() => string>(
  chatbotA,
  chatbotB,
  foreignChatbot,
  upper(chatbotA),
  upper(foreignChatbot),
  () => 'does-not-exist',
  () => '00000000-0000-0000-0000-000000000000',
);
const presentedKey = fc.constantFrom<() => string>(
  () => chatbotKey.key,
  () => tenant.ownerKey,
);
const credentialHeader = fc.constantFrom<(key: string) => Record<string, string>>(
  (key) => ({ authorization: `Bearer ${key}` }),
  (key) => ({ 'x-api-key': key }),
);

const pathPiece = fc.constantFrom(
  '.',
  '..',
  '',
  '%2e',
  '%2e%2e',
  '.%2e',
  '%2f',
  '%5c',
  '\\',
  '%252e%252e',
  '%252f',
  '%25252e',
  '%00',
  '%c0%ae%c0%ae',
  '%ef%bc%8f',
  '%e2%80%a4%e2%80%a4',
  '%20',
  '%09',
  ';',
  ';..',
  '..;',
  '%3b',
  '#',
  'chatbots',
  'chat',
  'messages',
  'x',
  '%',
  '%zz',
  '%62',
  'CHATBOTS',
  'api',
  'v1',
  'Chatbots',
  'API',
  'V1',
  'CHAT',
  'x;jsessionid=1',
  '%3B',
  '%253b',
  'chatbots;a=b',
  '.;',
  '..%3b',
  '%2e%2e;',
);

/** Asserts the answer is a refusal or a forward, never a 5xx, and that nothing out of scope was forwarded. */
async function judge(request: RawRequest): Promise<RawAnswer> {
  const answer = await attack.send(request);
  const forwarded = attack.takeForwarded();
  const label = `${request.method ?? 'GET'} ${request.path}`;
  expect([label, answer.status < 500]).toEqual([label, true]);
  if (forwarded.length > 0) {
    expect([label, answer.status, forwarded.length]).toEqual([label, 200, 1]);
    if (request.method !== 'HEAD') expect(answer.json).toEqual({ upstream: true });
  } else {
    expect([label, REFUSALS.has(answer.status)]).toEqual([label, true]);
    if (request.method !== 'HEAD') expect(typeof answer.json?.error?.code).toBe('string');
    expect(forwarded).toEqual([]);
  }
  for (const request of forwarded) {
    expect([label, scopeViolations(request, reach)]).toEqual([label, []]);
    expect([label, smuggledHeaders(request.headers)]).toEqual([label, []]);
  }
  return answer;
}

describe('data plane under hostile input (properties, real gateway and upstream)', () => {
  it('paths: traversal, encoded and double-encoded separators, unicode look-alikes never leave the key’s scope', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
        fc.constantFrom(
          '/api/v1/chatbots/{own}/',
          '/api/v1/chatbots/{target}/',
          '/api/v1/',
          '/api/v1/chatbots/',
          '/api//v1/chatbots/{target}',
          '/',
          '/API/V1/CHATBOTS/{target}/',
          '/api/v1/chatbots/{target}/..;/{own}/',
          '/Api/v1/Chatbots/{own};x=1/',
          '/api/v1/chatbots/{own}/..;/',
        ),
        fc.array(
          fc.oneof(
            pathPiece,
            targetId.map((id) => `{${id()}}`),
          ),
          { maxLength: 7 },
        ),
        targetId,
        presentedKey,
        credentialHeader,
        async (method, template, pieces, target, key, credential) => {
          const path = template.replace('{own}', chatbotA()).replace('{target}', target()) + pieces.join('/').replace(/[{}]/g, '');
          await judge({ method, path, headers: credential(key()) });
        },
      ),
      RUNS,
    );
  });

  it('headers: forged identity, odd credentials and request ids never change who the upstream is told is calling', async () => {
    // Connection, TE and Host are left out: the HTTP client refuses to send made-up values for them.
    const headerName = fc.constantFrom(
      'x-account-id',
      'x-chatbot-id',
      'x-api-key-id',
      'x-api-key-type',
      'x-user-id',
      'x-forwarded-for',
      'x-real-ip',
      'forwarded',
      'x-original-url',
      'x-rewrite-url',
      'x-http-method-override',
      'x-request-id',
      'x-custom',
      'cookie',
      'content-type',
      'x_account_id',
      'X_Chatbot_Id',
      'x-api_key-id',
      'x_api_key_type',
      'x_user_id',
      'x_original_url',
      'x-http-method',
      'x-method-override',
    );
    const headerValue = fc.oneof(
      fc
        .string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 140 })
        .map((value) => value.trim()),
      targetId.map((id) => id()),
      fc.constantFrom('x-account-id, x-chatbot-id', 'close, x-api-key-id', '/api/v1/chatbots/other', 'user', 'admin', '127.0.0.1'),
    );
    const credential = fc.constantFrom<(key: string) => Record<string, string | string[]>>(
      (key) => ({ authorization: `Bearer ${key}` }),
      (key) => ({ authorization: `bearer\t${key}  ` }),
      (key) => ({ authorization: `Basic ${key}` }),
      (key) => ({ authorization: `Bearer ${key} extra` }),
      (key) => ({ authorization: key }),
      (key) => ({ 'x-api-key': ` ${key} ` }),
      (key) => ({ 'x-api-key': [key, tenant.ownerKey] }),
      (key) => ({ authorization: `Bearer ${key}`, 'x-api-key': tenant.ownerKey }),
      (key) => ({ authorization: `Bearer ${key.slice(0, -1)}` }),
      () => ({}),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(headerName, headerValue, { maxKeys: 5 }),
        presentedKey,
        credential,
        targetId,
        async (extra, key, present, target) => {
          const headers = { ...extra, ...present(key()) };
          const answer = await judge({ path: `/api/v1/chatbots/${target()}/messages`, headers });
          const sentId = extra['x-request-id'];
          const kept = sentId !== undefined && /^[A-Za-z0-9._-]{1,128}$/.test(sentId);
          if (kept) expect(answer.headers['x-request-id']).toBe(sentId);
          else expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
        },
      ),
      RUNS,
    );
  });

  it('JSON bodies on POST /api/v1/chat: duplicates, escapes, __proto__, constructor, deep nesting, huge numbers', async () => {
    const quoted = (id: string) => JSON.stringify(id);
    const filler = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value));
    const body = fc.oneof(
      fc.tuple(targetId, filler).map(([id, value]) => `{"chatbotId":${quoted(id())},"message":${value}}`),
      fc.tuple(targetId, targetId).map(([first, second]) => `{"chatbotId":${quoted(first())},"chatbotId":${quoted(second())}}`),
      fc.tuple(targetId, targetId).map(([first, second]) => `{"chatbotId":${quoted(first())},"chatbot\\u0049d":${quoted(second())}}`),
      fc
        .tuple(targetId, targetId)
        .map(([first, second]) => `{"__proto__":{"chatbotId":${quoted(first())}},"chatbotId":${quoted(second())}}`),
      targetId.map((id) => `{"__proto__":{"chatbotId":${quoted(id())}}}`),
      targetId.map((id) => `{"constructor":{"prototype":{"chatbotId":${quoted(id())}}}}`),
      fc
        .tuple(targetId, fc.integer({ min: 1, max: 20_000 }))
        .map(([id, depth]) => `{"chatbotId":${quoted(id())},"x":${'['.repeat(depth)}${']'.repeat(depth)}}`),
      fc.integer({ min: 1, max: 20_000 }).map((depth) => `${'{"chatbotId":'.repeat(depth)}"x"${'}'.repeat(depth)}`),
      fc
        .constantFrom('1e400', '-1e400', '123456789012345678901234567890', '0.0000000000000000000000001', 'NaN', 'Infinity')
        .map((number) => `{"chatbotId":${number},"n":${number}}`),
      targetId.map((id) => `\uFEFF{"chatbotId":${quoted(id())}}`),
      targetId.map((id) => `{"chatbotId":${quoted(id())}} trailing`),
      targetId.map((id) => `{"chatbotId":${quoted(id())}`),
      targetId.map((id) => `[{"chatbotId":${quoted(id())}}]`),
      targetId.map((id) => `{"chatbotId":${quoted(`${id()}\u0000`)}}`),
      targetId.map((id) => `{"chatbotId":[${quoted(id())}]}`),
      fc
        .tuple(targetId, targetId, fc.constantFrom('ChatbotId', 'CHATBOTID', 'chatbotid', 'chatbot\\u0069d', 'ChatBotId'))
        .map(([first, second, name]) => `{"chatbotId":${quoted(first())},"${name}":${quoted(second())}}`),
      fc.tuple(targetId, fc.constantFrom('ChatbotId', 'chatbotid')).map(([id, name]) => `{"${name}":${quoted(id())}}`),
      fc.constantFrom('', 'null', '"x"', '{}', '{"chatbotId":null}', '{"chatbotId":""}', '\u0000'),
      fc.string({ maxLength: 80 }),
    );
    const encoding = fc.constantFrom<(text: string) => string | Buffer>(
      (text) => text,
      (text) => Buffer.concat([Buffer.from(text), Buffer.from([0xff, 0xfe])]),
      (text) => Buffer.from(text, 'utf16le'),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=utf-16',
      'application/json; charset=UTF-8',
      'multipart/form-data; boundary=x',
      'APPLICATION/JSON',
    );
    const encodingHeader = fc.constantFrom<Record<string, string>>(
      {},
      {},
      { 'content-encoding': 'gzip' },
      { 'content-encoding': 'identity' },
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        encoding,
        contentType,
        encodingHeader,
        presentedKey,
        fc.constantFrom(
          '/api/v1/chat',
          '/api/v1/chat/',
          '/api/v1//chat',
          '/api/v1/x/../chat',
          '/API/V1/Chat',
          '/api/v1/chat;x=1',
          '/api/v1/chat?{q}=%s',
        ),
        fc.constantFrom('chatbotId', 'ChatbotId', 'chatbotid', 'chatbotId[]', 'chatbot%49d', 'other'),
        targetId,
        async (text, encode, type, extra, key, template, queryName, queryTarget) => {
          const path = template.replace('{q}', queryName).replace('%s', encodeURIComponent(queryTarget()));
          await judge({
            method: 'POST',
            path,
            headers: { authorization: `Bearer ${key()}`, 'content-type': type, ...extra },
            body: encode(text),
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an upper-case spelling of a deleted chatbot is that deleted chatbot: never forwarded', async () => {
    const doomed = (await attack.helpers.admin('POST', `/accounts/${tenant.account.id}/chatbots`, { name: 'Doomed bot' })).body
      .id as string;
    const lowerPath = `/api/v1/chatbots/${doomed}/messages`;
    const upperPath = `/api/v1/chatbots/${doomed.toUpperCase()}/messages`;
    const credential = { authorization: `Bearer ${tenant.ownerKey}` };
    // From an address of its own: the properties above presented invalid keys enough to be throttled.
    const send = (path: string) => attack.send({ path, headers: credential }, '127.0.0.9');
    // Both spellings cached as allowed before the deletion.
    for (const path of [lowerPath, upperPath]) expect((await send(path)).status).toBe(200);
    const beforeDeletion = attack.takeForwarded();
    expect((await attack.helpers.admin('DELETE', `/chatbots/${doomed}`)).status).toBe(204);
    for (const path of [lowerPath, upperPath, `/API/V1/CHATBOTS/${doomed.toUpperCase()}`]) {
      const refused = await eventually(
        () => send(path),
        (answer) => answer.status !== 200,
        { timeoutMs: 1_000, intervalMs: 25 },
      );
      expect([path, refused.status]).toEqual([path, 403]);
      // Later answers stay refusals: nothing cached under another spelling brings it back.
      expect([path, (await send(path)).status]).toEqual([path, 403]);
    }
    expect(attack.takeForwarded()).toEqual([]);
    // Before the deletion, both spellings were forwarded as the one canonical chatbot.
    expect(beforeDeletion.map((request) => request.headers['x-chatbot-id'])).toEqual([doomed, doomed]);
  });
});

/** Headers a WSGI/CGI upstream would read as an identity header, or that reroute the request upstream. */
function smuggledHeaders(headers: Record<string, unknown>): string[] {
  const rerouting = ['x-original-url', 'x-rewrite-url', 'x-http-method-override', 'x-http-method', 'x-method-override'];
  return Object.keys(headers).filter((name) => name.includes('_') || rerouting.includes(name));
}
