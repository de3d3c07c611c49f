import { runNamespace, type RunNamespace } from '../../../scripts/run-namespace.mjs';

/**
 * Where the real services are, and a run-unique namespace in each of them, so that parallel
 * runs and workers never see each other: a database of their own, a Redis key prefix and a
 * NATS subject prefix. The services are those DATABASE_URL, REDIS_URL and NATS_URL name
 * (containers where a container engine answers: scripts/test-services.mjs), else this machine's.
 */
export type TestEnvironment = RunNamespace;

/** Explicit servers (e.g. a fault test's private ones) instead of those the environment names. */
export interface ServerUrls {
  postgresUrl: string;
  redisUrl: string;
  natsUrl: string;
}

export function testEnvironment(servers: Partial<ServerUrls> = {}): TestEnvironment {
  return runNamespace(servers);
}
