import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'undici';
import { createLogger } from '@app/common';
import { httpRequest, type HttpAnswer, type HttpRequest } from '@app/testing';
import { apiHelpers, expectAnswer } from '../../libs/testing/src/management-api.js';
import { startManagementSystem, type ManagementSystem } from '../../libs/testing/src/management-system.js';
import { loadGatewayConfig } from '../../apps/gateway/src/config.js';
import { startGateway } from '../../apps/gateway/src/gateway.js';
import { MetricsServer } from '../../apps/gateway/src/http/metrics-server.js';

/** What reached the upstream, byte for byte. */
export interface Forwarded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What the attacked gateway answered: text, and JSON when the text parses. */
export type RawAnswer = HttpAnswer<IncomingHttpHeaders>;

export type RawRequest = Pick<HttpRequest, 'method' | 'path' | 'headers' | 'body'>;

/** A tenant as provisioned by `apiHelpers`: account, two chatbots, an owner with a user-level key. */
export type Tenant = Awaited<ReturnType<ReturnType<typeof apiHelpers>['provisionTenant']>>;

export interface AttackSystem {
  system: ManagementSystem;
  helpers: ReturnType<typeof apiHelpers>;
  /** The attacked gateway's public port, and its metrics port (GATEWAY_METRICS_PORT). */
  origin: string;
  metricsOrigin: string;
  /** Every request the upstream received since the last `takeForwarded()`. */
  takeForwarded(): Forwarded[];
  /** Sends the request target as given (no client-side URL normalisation), from `localAddress`. */
  send(request: RawRequest, localAddress?: string): Promise<RawAnswer>;
  stop(): Promise<void>;
}

/**
 * The management system (gateway, key-management, auth-verifier in process, real Postgres,
 * Redis and NATS) plus one more gateway on the same bus whose upstream is a server written
 * here that records everything it receives: what an attack got through is what it recorded.
 */
export async function startAttackSystem(gatewayEnv: Record<string, string> = {}): Promise<AttackSystem> {
  const system = await startManagementSystem();
  let forwarded: Forwarded[] = [];
  const upstream = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      forwarded.push({ method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"upstream":true}');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  let gateway: NestFastifyApplication;
  try {
    gateway = await startGateway(
      loadGatewayConfig({
        NATS_URL: system.env.natsUrl,
        NATS_SUBJECT_PREFIX: system.env.subjectPrefix,
        GATEWAY_PORT: '0',
        GATEWAY_METRICS_PORT: '0',
        ADMIN_TOKEN: system.adminToken,
        UPSTREAM_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
        LOG_LEVEL: 'warn',
        ...gatewayEnv,
      }),
      createLogger('attacked-gateway', 'warn'),
    );
  } catch (error) {
    await closeServer(upstream);
    await system.stop();
    throw error;
  }
  const origin = `http://127.0.0.1:${(gateway.getHttpServer().address() as AddressInfo).port}`;
  const clients = new Map<string, Client>();
  const clientFrom = (localAddress: string) => {
    let client = clients.get(localAddress);
    if (!client) clients.set(localAddress, (client = new Client(origin, { localAddress })));
    return client;
  };
  return {
    system,
    helpers: apiHelpers(() => system),
    origin,
    metricsOrigin: `http://127.0.0.1:${gateway.get(MetricsServer).port}`,
    takeForwarded: () => {
      const taken = forwarded;
      forwarded = [];
      return taken;
    },
    send: (request, localAddress = '127.0.0.1') => httpRequest(clientFrom(localAddress), request),
    stop: async () => {
      for (const client of clients.values()) await client.close();
      await gateway.close();
      await closeServer(upstream);
      await system.stop();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A chatbot key created over the management API by the tenant's owner. */
export async function createChatbotKey(helpers: AttackSystem['helpers'], tenant: Tenant, chatbotId: string) {
  const created = expectAnswer(
    await helpers.call('POST', `/v1/chatbots/${chatbotId}/api-keys`, { credential: tenant.ownerKey, body: { name: 'attacked' } }),
    201,
  ).body;
  return { id: created.id as string, key: created.key as string };
}
