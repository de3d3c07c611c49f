import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger } from '@app/common';
// Each app's own start function and config loader, the ones its main.ts calls: the harness runs
// the services as production does, in this process.
import { startAuthVerifier } from '../../../apps/auth-verifier/src/auth-verifier.js';
import { loadAuthVerifierConfig } from '../../../apps/auth-verifier/src/config.js';
import { loadKeyManagementConfig } from '../../../apps/key-management/src/config.js';
import { startKeyManagement } from '../../../apps/key-management/src/key-management.js';
import { loadGatewayConfig } from '../../../apps/gateway/src/config.js';
import { startGateway } from '../../../apps/gateway/src/gateway.js';
import { dropRunNamespace } from '../../../scripts/run-namespace.mjs';
import { createTestDatabase, type TestDatabase } from './database.js';
import { testEnvironment, type TestEnvironment } from './environment.js';
import { httpRequest } from './http-client.js';
import { SSO_TEST_AUDIENCE, SSO_TEST_ISSUER, SSO_TEST_SECRET } from './management-api.js';
import { runUsageStream } from './usage-stream.js';

export interface Answer {
  status: number;
  headers: Headers;
  /** Parsed JSON, checked field by field by the specs. */
  body: any;
}

export interface HttpClient {
  call(method: string, path: string, options?: { credential?: string; body?: unknown; rawBody?: string }): Promise<Answer>;
}

export interface ManagementSystem {
  env: TestEnvironment;
  adminToken: string;
  gateway: NestFastifyApplication;
  /** The gateway with the admin token configured. */
  http: HttpClient;
  /** A second gateway on the same bus with no ADMIN_TOKEN. */
  httpWithoutAdmin: HttpClient;
  stop(): Promise<void>;
}

/**
 * Gateway, key-management and auth-verifier in process, on port 0, against the real
 * Postgres, Redis and NATS, isolated by a database, a Redis prefix and a subject prefix of their own.
 */
export async function startManagementSystem(): Promise<ManagementSystem> {
  const env = testEnvironment();
  const database: TestDatabase = await createTestDatabase(env);
  const adminToken = randomBytes(24).toString('hex');
  const shared = { NATS_URL: env.natsUrl, NATS_SUBJECT_PREFIX: env.subjectPrefix, LOG_LEVEL: 'warn', GATEWAY_METRICS_PORT: '0' };
  const logger = (name: string) => createLogger(name, 'warn');
  const started: NestFastifyApplication[] = [];
  try {
    started.push(
      await startKeyManagement(
        loadKeyManagementConfig({ ...shared, DATABASE_URL: database.url, KEY_MANAGEMENT_HTTP_PORT: '0' }),
        logger('key-management'),
      ),
    );
    started.push(
      await startAuthVerifier(
        loadAuthVerifierConfig({ ...shared, REDIS_URL: env.redisUrl, REDIS_KEY_PREFIX: env.redisPrefix, AUTH_VERIFIER_HTTP_PORT: '0' }),
        logger('auth-verifier'),
      ),
    );
    const gateway = await startGateway(
      loadGatewayConfig({
        ...shared,
        GATEWAY_PORT: '0',
        ADMIN_TOKEN: adminToken,
        SSO_HS256_SECRET: SSO_TEST_SECRET,
        SSO_ISSUER: SSO_TEST_ISSUER,
        SSO_AUDIENCE: SSO_TEST_AUDIENCE,
      }),
      logger('gateway'),
    );
    started.push(gateway);
    const gatewayWithoutAdmin = await startGateway(loadGatewayConfig({ ...shared, GATEWAY_PORT: '0' }), logger('gateway'));
    started.push(gatewayWithoutAdmin);
    return {
      env,
      adminToken,
      gateway,
      http: clientFor(gateway),
      httpWithoutAdmin: clientFor(gatewayWithoutAdmin),
      stop: async () => {
        await closeAll(started);
        await dropRunNamespace(env, { streams: [runUsageStream(env)] });
      },
    };
  } catch (error) {
    await closeAll(started);
    await dropRunNamespace(env, { streams: [runUsageStream(env)] });
    throw error;
  }
}

async function closeAll(apps: NestFastifyApplication[]): Promise<void> {
  for (const app of [...apps].reverse()) await app.close();
}

function clientFor(app: NestFastifyApplication): HttpClient {
  const { port } = app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    async call(method, path, options = {}) {
      const answer = await httpRequest(baseUrl, { method, path, key: options.credential, json: options.rawBody ?? options.body });
      // Strict: an answer that is not JSON fails the spec here.
      return { status: answer.status, headers: answer.headers, body: answer.text ? JSON.parse(answer.text) : null };
    },
  };
}
