import { startPrivateServers, startTestSystem, type PrivateServers, type TestSystem } from '@app/testing';
import { expectStatus, GatewayClient, type Answer } from '../client.js';

/**
 * What every fault spec needs: the whole system (every service its own process, from the
 * build) on Redis, NATS and PostgreSQL servers of the spec's own, which it may stop, kill
 * or pause. The shared servers are never touched.
 */
export interface FaultWorld {
  servers: PrivateServers;
  system: TestSystem;
  client: GatewayClient;
  stop(): Promise<void>;
}

export async function startFaultWorld(extraEnv: NodeJS.ProcessEnv = {}): Promise<FaultWorld> {
  const servers = await startPrivateServers();
  let system: TestSystem;
  try {
    system = await startTestSystem({ LOG_LEVEL: 'info', ...extraEnv }, { servers: servers.urls });
  } catch (error) {
    await servers.destroy();
    throw error;
  }
  return {
    servers,
    system,
    client: new GatewayClient(system.gatewayUrl, system.adminToken),
    stop: async () => {
      // The namespace cleanup needs the servers up: bring back any a test left down.
      await Promise.all([servers.redis, servers.nats, servers.postgres].map((server) => server.start().catch(() => undefined)));
      await system.stop().catch(() => system.running.stop());
      await servers.destroy();
    },
  };
}

export type Tenant = Awaited<ReturnType<GatewayClient['provision']>>;

export async function createChatbotKey(client: GatewayClient, tenant: Tenant, chatbotId: string): Promise<{ id: string; key: string }> {
  const answer = expectStatus(await client.call('POST', `/v1/chatbots/${chatbotId}/api-keys`, { key: tenant.userKey, body: {} }), 201);
  return { id: answer.body.id, key: answer.body.key };
}

/** A data-plane call the way a client makes one: a chatbot route of `chatbotId`. */
export function callChatbot(client: GatewayClient, key: string, chatbotId: string, baseUrl?: string): Promise<Answer> {
  const target = baseUrl ? new GatewayClient(baseUrl, '') : client;
  return target.call('GET', `/api/v1/chatbots/${chatbotId}/conversations`, { key });
}

/** The total a key's owner sees in `GET …/usage` (last 24 h). */
export async function usageTotal(client: GatewayClient, tenant: Tenant, chatbotId: string, keyId: string): Promise<number> {
  const answer = await client.call('GET', `/v1/chatbots/${chatbotId}/api-keys/${keyId}/usage`, { key: tenant.userKey });
  return answer.status === 200 ? answer.body.total : -answer.status;
}

export async function readyStatus(baseUrl: string): Promise<number> {
  return fetch(`${baseUrl}/health/ready`).then(
    (response) => response.status,
    () => 0,
  );
}

/** `/health/ready` of every service of the system, by name. */
export async function readiness(system: TestSystem): Promise<Record<string, number>> {
  const entries = await Promise.all(
    system.running.services.map(async ({ name, port }) => [name, await readyStatus(`http://127.0.0.1:${port}`)] as const),
  );
  return Object.fromEntries(entries);
}

export function serviceProcess(system: TestSystem, name: string) {
  const service = system.running.services.find((candidate) => candidate.name === name);
  if (!service) throw new Error(`no service ${name}`);
  return service;
}

export async function timed<T>(action: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await action();
  return { value, ms: performance.now() - started };
}

/** A time that must pass (a TTL to run out) or pacing (a backoff); never a wait for a result: that is `eventually`. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function statusAndCode(answer: Answer): string {
  return `${answer.status} ${answer.body?.error?.code ?? ''}`.trim();
}
