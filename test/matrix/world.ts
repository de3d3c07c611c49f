import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { startTestSystem, type TestSystem } from '@app/testing';
import { expectStatus, GatewayClient } from '../client.js';
import type { CallerId } from './callers.js';

/** A key the fixture holds: its id (for management paths) and the key itself (to call with). */
export interface HeldKey {
  id: string;
  key: string;
}

/**
 * The reseller fixture. Account X (plan entry) with chatbots A and B; owner O (user-level
 * key), admin D, member M1 assigned to A and member M2 assigned to B only (all three by SSO);
 * chatbot keys KA on A and KB on B. Account Y with owner OY (user-level key), an SSO owner SY
 * and a chatbot of its own.
 */
export interface World {
  system: TestSystem;
  client: GatewayClient;
  x: { accountId: string; chatbotA: string; chatbotB: string; ownerKey: HeldKey };
  y: { accountId: string; chatbot: string; ownerKey: HeldKey };
  ka: HeldKey;
  kb: HeldKey;
  /** The bearer credential each caller presents: an API key or a signed SSO token. */
  credentials: Record<CallerId, string>;
  accountOf: Record<CallerId, string>;
}

/** Starts the whole system with HS256 SSO on and provisions the fixture through the gateway only. */
export async function buildWorld(): Promise<World> {
  const secret = randomBytes(30).toString('base64url'); // 40 characters
  const system = await startTestSystem({ SSO_HS256_SECRET: secret, SSO_ISSUER: SSO_ISSUER, SSO_AUDIENCE: SSO_AUDIENCE });
  try {
    return await provision(system, secret);
  } catch (error) {
    await system.stop();
    throw error;
  }
}

async function provision(system: TestSystem, secret: string): Promise<World> {
  const client = new GatewayClient(system.gatewayUrl, system.adminToken);
  const run = randomBytes(4).toString('hex');

  const x = await client.provision('entry', ['Client A bot', 'Client B bot']);
  const [chatbotA, chatbotB] = x.chatbots.map((chatbot: { id: string }) => chatbot.id);
  const ssoUser = async (accountId: string, name: string, role: string, chatbotIds?: string[]) => {
    const ssoSubject = `idp|${name}-${run}`;
    const body = { email: `${name}-${run}@reseller.test`, role, ssoSubject, ...(chatbotIds ? { chatbotIds } : {}) };
    expectStatus(await client.admin('POST', `/accounts/${accountId}/users`, body), 201);
    return signSsoToken(secret, ssoSubject);
  };
  const admin = await ssoUser(x.account.id, 'admin-d', 'admin');
  const assignedMember = await ssoUser(x.account.id, 'member-m1', 'member', [chatbotA]);
  const unassignedMember = await ssoUser(x.account.id, 'member-m2', 'member', [chatbotB]);
  const chatbotKey = async (chatbotId: string, name: string): Promise<HeldKey> => {
    const created = await client.call('POST', `/v1/chatbots/${chatbotId}/api-keys`, { key: x.userKey, body: { name } });
    const { id, key } = expectStatus(created, 201).body;
    return { id, key };
  };
  const ka = await chatbotKey(chatbotA, 'KA');
  const kb = await chatbotKey(chatbotB, 'KB');

  const y = await client.provision('entry', ['Other tenant bot']);
  const otherAccountSso = await ssoUser(y.account.id, 'owner-sy', 'owner');

  const world: World = {
    system,
    client,
    x: { accountId: x.account.id, chatbotA, chatbotB, ownerKey: { id: x.userKeyId, key: x.userKey } },
    y: { accountId: y.account.id, chatbot: y.chatbots[0].id, ownerKey: { id: y.userKeyId, key: y.userKey } },
    ka,
    kb,
    credentials: {
      owner: x.userKey,
      admin,
      assignedMember,
      unassignedMember,
      chatbotKey: ka.key,
      otherChatbotKey: kb.key,
      otherAccountKey: y.userKey,
      otherAccountSso,
    },
    accountOf: {
      owner: x.account.id,
      admin: x.account.id,
      assignedMember: x.account.id,
      unassignedMember: x.account.id,
      chatbotKey: x.account.id,
      otherChatbotKey: x.account.id,
      otherAccountKey: y.account.id,
      otherAccountSso: y.account.id,
    },
  };
  return world;
}

const SSO_ISSUER = 'https://idp.matrix.example/';
const SSO_AUDIENCE = 'chatbot-keys-matrix';

/** An HS256 SSO token for `sub`, signed like the customer's identity provider would. */
export function signSsoToken(secret: string, subject: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(SSO_ISSUER)
    .setAudience(SSO_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(secret));
}

/** A route the gateway does not serve answers the owner with 404 not_found; anything else means it exists. */
