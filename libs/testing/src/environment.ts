import { randomBytes } from 'node:crypto';

/**
 * Where the real services are, and a run-unique namespace in each of them, so that
 * parallel runs and workers never see each other: a database of their own, a Redis key
 * prefix and a NATS subject prefix. Without a Docker engine the services come from
 * DATABASE_URL, REDIS_URL and NATS_URL (defaults: this machine's).
 */
export interface TestEnvironment {
  runId: string;
  /** Server URL without a database name; `createTestDatabase` makes one. */
  postgresUrl: string;
  redisUrl: string;
  natsUrl: string;
  redisPrefix: string;
  subjectPrefix: string;
}

/** Explicit servers (e.g. a fault test's private ones) instead of those the environment names. */
export interface ServerUrls {
  postgresUrl: string;
  redisUrl: string;
  natsUrl: string;
}

export function testEnvironment(servers: Partial<ServerUrls> = {}): TestEnvironment {
  const runId = `t${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  const database = new URL(servers.postgresUrl || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/chatbot_keys');
  database.pathname = '/postgres';
  return {
    runId,
    postgresUrl: database.toString(),
    redisUrl: servers.redisUrl || process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    natsUrl: servers.natsUrl || process.env.NATS_URL || 'nats://127.0.0.1:4222',
    redisPrefix: `${runId}:`,
    subjectPrefix: runId,
  };
}
