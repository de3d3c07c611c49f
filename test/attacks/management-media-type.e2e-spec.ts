import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startAttackSystem, type AttackSystem, type Tenant } from './attack-system.js';

/**
 * The management and admin APIs read their bodies as JSON: anything else is refused before it is
 * parsed, as on the data plane. Bytes that never became a request still get the error shape.
 */
let attack: AttackSystem;
let tenant: Tenant;

beforeAll(async () => {
  attack = await startAttackSystem();
  tenant = await attack.helpers.provisionTenant('standard');
}, 60_000);

afterAll(async () => {
  await attack?.stop();
});

/** Writes raw bytes to the gateway and reads until it closes the connection. */
function rawExchange(origin: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

describe('management bodies and unparsable requests', () => {
  const body = JSON.stringify({ name: 'typed' });
  const createKey = (headers: Record<string, string>, path = `/v1/chatbots/${tenant.chatbots[0].id}/api-keys`) =>
    attack.send({ method: 'POST', path, headers: { authorization: `Bearer ${tenant.ownerKey}`, ...headers }, body });

  it.each([
    ['text/plain', {}],
    ['application/x-www-form-urlencoded', {}],
    ['application/json; charset=utf-16', {}],
    ['application/json', { 'content-encoding': 'gzip' }],
  ])('refuses a %s body %j with 415 unsupported_media_type and creates nothing', async (type, extra) => {
    const before = await attack.helpers.call('GET', `/v1/chatbots/${tenant.chatbots[0].id}/api-keys`, { credential: tenant.ownerKey });
    const answer = await createKey({ 'content-type': type, ...extra });
    expect([answer.status, answer.json?.error?.code]).toEqual([415, 'unsupported_media_type']);
    expect(answer.json.error.requestId).toBe(answer.headers['x-request-id']);
    const after = await attack.helpers.call('GET', `/v1/chatbots/${tenant.chatbots[0].id}/api-keys`, { credential: tenant.ownerKey });
    expect(after.body.data).toHaveLength(before.body.data.length);
  });

  it('judges the route case-insensitively, and takes UTF-8 JSON in any spelling of its media type', async () => {
    const upper = await createKey({ 'content-type': 'text/plain' }, `/V1/CHATBOTS/${tenant.chatbots[0].id}/API-KEYS`);
    expect(upper.status).toBe(415);
    const created = await createKey({ 'content-type': 'Application/JSON; charset="UTF-8"' });
    expect(created.status).toBe(201);
  });

  it('answers a request Node cannot parse with 400 invalid_request in the error shape, with its X-Request-Id', async () => {
    const answer = await rawExchange(attack.origin, 'GET /v1/chatbots HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    const [head, text] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    const requestId = /\r\nx-request-id: ([^\r]+)/i.exec(head)?.[1];
    expect(JSON.parse(text)).toEqual({ error: { code: 'invalid_request', message: 'the request could not be parsed', requestId } });
  });

  it('answers headers over Node’s limit with 400 invalid_request, not a bare 431', async () => {
    const answer = await rawExchange(attack.origin, `GET /v1/chatbots HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(answer.split('\r\n\r\n')[1]).error.code).toBe('invalid_request');
  });
});
