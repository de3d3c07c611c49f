import { runNamespace } from '../../../scripts/run-namespace.mjs';

/**
 * Where the real services are, and a run-unique namespace in each of them, so that parallel
 * runs and workers never see each other: a database of their own, a Redis key prefix and a
 * NATS subject prefix. The services are those DATABASE_URL, REDIS_URL and NATS_URL name
 * (containers where a container engine answers: scripts/test-services.mjs), else this machine's.
 */
export interface TestEnvironment {
  runId: string;
  /** Server URL on its `postgres` database; `createTestDatabase` makes the run's own. */
  postgresUrl: string;
  /** The run's own database on that server (created by `createTestDatabase` or the migrations). */
  databaseUrl: string;
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
  return runNamespace(servers);
}
