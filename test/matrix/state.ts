import { expectStatus } from '../client.js';
import type { HeldKey, World } from './world.js';

/** The active keys of each place a cell could touch, as `{id, name}` sorted by id. */
export interface KeyState {
  chatbotA: KeyEntry[];
  chatbotB: KeyEntry[];
  userKeysX: KeyEntry[];
  userKeysY: KeyEntry[];
}
export type KeyEntry = { id: string; name: string };
export type KeyPlace = keyof KeyState;

/** Read through the management API by each account's owner, who sees everything of their account. */
export async function readKeyState(world: World): Promise<KeyState> {
  const list = async (path: string, owner: HeldKey): Promise<KeyEntry[]> => {
    const answer = expectStatus(await world.client.call('GET', path, { key: owner.key }), 200);
    return (answer.body.data as KeyEntry[]).map(({ id, name }) => ({ id, name })).sort((a, b) => a.id.localeCompare(b.id));
  };
  return {
    chatbotA: await list(`/v1/chatbots/${world.x.chatbotA}/api-keys`, world.x.ownerKey),
    chatbotB: await list(`/v1/chatbots/${world.x.chatbotB}/api-keys`, world.x.ownerKey),
    userKeysX: await list('/v1/api-keys', world.x.ownerKey),
    userKeysY: await list('/v1/api-keys', world.y.ownerKey),
  };
}

export function withKey(state: KeyState, place: KeyPlace, entry: KeyEntry): KeyState {
  return { ...state, [place]: [...state[place], entry].sort((a, b) => a.id.localeCompare(b.id)) };
}

export function withoutKey(state: KeyState, place: KeyPlace, id: string): KeyState {
  return { ...state, [place]: state[place].filter((entry) => entry.id !== id) };
}

export function renamed(state: KeyState, place: KeyPlace, id: string, name: string): KeyState {
  return { ...state, [place]: state[place].map((entry) => (entry.id === id ? { id, name } : entry)) };
}

/**
 * Revokes every key a cell left behind (its fresh target, what it created), so chatbot A never
 * nears its 10-key limit and each cell starts from the fixture: KA, KB and the owners' keys.
 */
export async function sweepLeftovers(world: World): Promise<void> {
  const state = await readKeyState(world);
  const keep = new Set([world.ka.id, world.kb.id, world.x.ownerKey.id, world.y.ownerKey.id]);
  const revoke = async (path: string, owner: HeldKey) => expectStatus(await world.client.call('DELETE', path, { key: owner.key }), 204);
  for (const { id } of state.chatbotA.filter((entry) => !keep.has(entry.id))) {
    await revoke(`/v1/chatbots/${world.x.chatbotA}/api-keys/${id}`, world.x.ownerKey);
  }
  for (const { id } of state.chatbotB.filter((entry) => !keep.has(entry.id))) {
    await revoke(`/v1/chatbots/${world.x.chatbotB}/api-keys/${id}`, world.x.ownerKey);
  }
  for (const { id } of state.userKeysX.filter((entry) => !keep.has(entry.id))) await revoke(`/v1/api-keys/${id}`, world.x.ownerKey);
  for (const { id } of state.userKeysY.filter((entry) => !keep.has(entry.id))) await revoke(`/v1/api-keys/${id}`, world.y.ownerKey);
}
