import { expect } from '@jest/globals';
import { expectStatus, type Answer } from '../client.js';
import type { CallerId } from './callers.js';
import { renamed, withKey, withoutKey, type KeyPlace, type KeyState } from './state.js';
import type { World } from './world.js';

/** A fresh key the owner creates just before a mutating cell, so no cell disturbs another. */
export interface Target {
  id: string;
  key: string;
  name: string;
  place: KeyPlace;
}
export type TargetKind = 'key on A' | 'key on B' | "X's user key";

export interface CellContext {
  world: World;
  caller: CallerId;
  target: Target | undefined;
  answer: Answer;
}

export interface RouteSpec {
  plane: 'management' | 'data';
  target?: TargetKind;
  request(world: World, caller: CallerId, target: Target | undefined): { method: string; path: string; body?: unknown };
  /** Listing routes: what a 200 must or must not show (the table says which). */
  shows?: { what: string; in(world: World, body: any): boolean };
  /** Mutating routes: the key state a success leaves. A refusal must leave the state exactly as it was. */
  effect?(before: KeyState, cell: CellContext): KeyState;
  /** What else a success must be true of. */
  onSuccess?(cell: CellContext): Promise<void>;
}

const RENAME = (caller: CallerId) => ({ name: `renamed by ${caller}` });
const accountPlace = (world: World, caller: CallerId): KeyPlace =>
  world.accountOf[caller] === world.x.accountId ? 'userKeysX' : 'userKeysY';
const ids = (body: any): string[] => (body?.data ?? []).map((item: { id: string }) => item.id);

export const ROUTES = {
  'GET /v1/chatbots': {
    plane: 'management',
    request: () => ({ method: 'GET', path: '/v1/chatbots' }),
    shows: { what: 'A', in: (world, body) => ids(body).includes(world.x.chatbotA) },
  },
  'POST /v1/chatbots/A/api-keys': {
    plane: 'management',
    request: (world, caller) => ({
      method: 'POST',
      path: `/v1/chatbots/${world.x.chatbotA}/api-keys`,
      body: { name: `made by ${caller}` },
    }),
    effect: (before, { answer }) => withKey(before, 'chatbotA', { id: answer.body.id, name: answer.body.name }),
    onSuccess: async ({ world, answer }) => {
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.body).toMatchObject({ type: 'chatbot', chatbotId: world.x.chatbotA });
      expect(answer.body.key).toMatch(/^cbk_[0-9A-Za-z]{38}$/);
      await expectChatbotKeyReachesOnlyA(world, answer.body.key);
    },
  },
  'GET /v1/chatbots/A/api-keys': {
    plane: 'management',
    request: (world) => ({ method: 'GET', path: `/v1/chatbots/${world.x.chatbotA}/api-keys` }),
    shows: { what: 'KA', in: (world, body) => ids(body).includes(world.ka.id) && !ids(body).includes(world.kb.id) },
  },
  'PATCH /v1/chatbots/A/api-keys/{key}': {
    plane: 'management',
    target: 'key on A',
    request: (world, caller, target) => ({
      method: 'PATCH',
      path: `/v1/chatbots/${world.x.chatbotA}/api-keys/${target!.id}`,
      body: RENAME(caller),
    }),
    effect: (before, { caller, target }) => renamed(before, 'chatbotA', target!.id, RENAME(caller).name),
    onSuccess: async ({ caller, answer, target }) => {
      expect(answer.body).toMatchObject({ id: target!.id, name: RENAME(caller).name });
    },
  },
  'DELETE /v1/chatbots/A/api-keys/{key}': {
    plane: 'management',
    target: 'key on A',
    request: (world, _caller, target) => ({ method: 'DELETE', path: `/v1/chatbots/${world.x.chatbotA}/api-keys/${target!.id}` }),
    effect: (before, { target }) => withoutKey(before, 'chatbotA', target!.id),
  },
  // A key id of chatbot B under chatbot A's path must not reach B's key.
  'PATCH /v1/chatbots/A/api-keys/{key of B}': {
    plane: 'management',
    target: 'key on B',
    request: (world, caller, target) => ({
      method: 'PATCH',
      path: `/v1/chatbots/${world.x.chatbotA}/api-keys/${target!.id}`,
      body: RENAME(caller),
    }),
  },
  'DELETE /v1/chatbots/A/api-keys/{key of B}': {
    plane: 'management',
    target: 'key on B',
    request: (world, _caller, target) => ({ method: 'DELETE', path: `/v1/chatbots/${world.x.chatbotA}/api-keys/${target!.id}` }),
  },
  'GET /v1/chatbots/A/api-keys/{KA}/usage': {
    plane: 'management',
    request: (world) => ({ method: 'GET', path: `/v1/chatbots/${world.x.chatbotA}/api-keys/${world.ka.id}/usage` }),
    onSuccess: async ({ answer }) => {
      expect(Array.isArray(answer.body.data)).toBe(true);
      expect(typeof answer.body.total).toBe('number');
    },
  },
  'POST /v1/api-keys': {
    plane: 'management',
    request: (_world, caller) => ({ method: 'POST', path: '/v1/api-keys', body: { name: `made by ${caller}` } }),
    effect: (before, { world, caller, answer }) =>
      withKey(before, accountPlace(world, caller), { id: answer.body.id, name: answer.body.name }),
    onSuccess: async ({ world, caller, answer }) => {
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.body).toMatchObject({ type: 'user', chatbotId: null });
      expect(answer.body.key).toMatch(/^usk_[0-9A-Za-z]{38}$/);
      await expectUserKeyReachesOnlyItsAccount(world, answer.body.key, world.accountOf[caller]);
    },
  },
  'GET /v1/api-keys': {
    plane: 'management',
    request: () => ({ method: 'GET', path: '/v1/api-keys' }),
    shows: { what: "X's user key", in: (world, body) => ids(body).includes(world.x.ownerKey.id) },
  },
  "PATCH /v1/api-keys/{X's user key}": {
    plane: 'management',
    target: "X's user key",
    request: (_world, caller, target) => ({ method: 'PATCH', path: `/v1/api-keys/${target!.id}`, body: RENAME(caller) }),
    effect: (before, { caller, target }) => renamed(before, 'userKeysX', target!.id, RENAME(caller).name),
    onSuccess: async ({ caller, answer, target }) => {
      expect(answer.body).toMatchObject({ id: target!.id, type: 'user', name: RENAME(caller).name });
    },
  },
  "DELETE /v1/api-keys/{X's user key}": {
    plane: 'management',
    target: "X's user key",
    request: (_world, _caller, target) => ({ method: 'DELETE', path: `/v1/api-keys/${target!.id}` }),
    effect: (before, { target }) => withoutKey(before, 'userKeysX', target!.id),
  },
  // The user-level key routes must not reach chatbot keys.
  'DELETE /v1/api-keys/{key of A}': {
    plane: 'management',
    target: 'key on A',
    request: (_world, _caller, target) => ({ method: 'DELETE', path: `/v1/api-keys/${target!.id}` }),
  },
  "GET /v1/api-keys/{X's user key}/usage": {
    plane: 'management',
    request: (world) => ({ method: 'GET', path: `/v1/api-keys/${world.x.ownerKey.id}/usage` }),
    onSuccess: async ({ answer }) => {
      expect(Array.isArray(answer.body.data)).toBe(true);
      expect(typeof answer.body.total).toBe('number');
    },
  },
  'GET /api/v1/chatbots/A/anything': {
    plane: 'data',
    request: (world) => ({ method: 'GET', path: `/api/v1/chatbots/${world.x.chatbotA}/anything` }),
    onSuccess: async ({ world, caller, answer }) => {
      expect(answer.body.path).toBe(`/api/v1/chatbots/${world.x.chatbotA}/anything`);
      expect(answer.body.received).toMatchObject({ 'x-account-id': world.accountOf[caller], 'x-chatbot-id': world.x.chatbotA });
    },
  },
  'POST /api/v1/chat {chatbotId:A}': {
    plane: 'data',
    request: (world) => ({ method: 'POST', path: '/api/v1/chat', body: { chatbotId: world.x.chatbotA, message: 'hello' } }),
    onSuccess: async ({ world, caller, answer }) => {
      expect(answer.body.chatbotId).toBe(world.x.chatbotA);
      expect(answer.body.received).toMatchObject({ 'x-account-id': world.accountOf[caller], 'x-chatbot-id': world.x.chatbotA });
    },
  },
  'GET /api/v1/account/profile': {
    plane: 'data',
    request: () => ({ method: 'GET', path: '/api/v1/account/profile' }),
    onSuccess: async ({ world, caller, answer }) => {
      expect(answer.body.path).toBe('/api/v1/account/profile');
      expect(answer.body.received['x-account-id']).toBe(world.accountOf[caller]);
      expect(answer.body.received['x-chatbot-id']).toBeUndefined();
    },
  },
} satisfies Record<string, RouteSpec>;

export type RouteId = keyof typeof ROUTES;

/** A chatbot key made by any caller reaches chatbot A and nothing else: not B, no account route, no management. */
async function expectChatbotKeyReachesOnlyA(world: World, key: string): Promise<void> {
  const { client, x } = world;
  const onA = expectStatus(await client.call('GET', `/api/v1/chatbots/${x.chatbotA}/x`, { key }), 200);
  expect(onA.body.received).toMatchObject({ 'x-chatbot-id': x.chatbotA, 'x-api-key-type': 'chatbot' });
  const elsewhere = [
    await client.call('GET', `/api/v1/chatbots/${x.chatbotB}/x`, { key }),
    await client.call('POST', '/api/v1/chat', { key, body: { chatbotId: x.chatbotB } }),
    await client.call('GET', `/api/v1/chatbots/${world.y.chatbot}/x`, { key }),
    await client.call('GET', '/api/v1/account/profile', { key }),
    await client.call('GET', '/v1/chatbots', { key }),
    await client.call('POST', `/v1/chatbots/${x.chatbotA}/api-keys`, { key, body: {} }),
  ];
  expect(elsewhere.map((answer) => [answer.status, answer.body.error?.code])).toEqual(Array(6).fill([403, 'insufficient_scope']));
}

/** A user-level key reaches its own account's routes and chatbots only. */
async function expectUserKeyReachesOnlyItsAccount(world: World, key: string, accountId: string): Promise<void> {
  const { client, x } = world;
  const profile = expectStatus(await client.call('GET', '/api/v1/account/profile', { key }), 200);
  expect(profile.body.received['x-account-id']).toBe(accountId);
  const onA = await client.call('GET', `/api/v1/chatbots/${x.chatbotA}/x`, { key });
  const onY = await client.call('GET', `/api/v1/chatbots/${world.y.chatbot}/x`, { key });
  const [own, foreign] = accountId === x.accountId ? [onA, onY] : [onY, onA];
  expect(own.status).toBe(200);
  expect(own.body.received['x-account-id']).toBe(accountId);
  expect([foreign.status, foreign.body.error?.code]).toEqual([403, 'insufficient_scope']);
}
