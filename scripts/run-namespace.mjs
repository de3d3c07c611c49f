// A run's own namespace on the shared services, so that parallel runs (test workers, benches)
// never see each other: a database named after the run, a Redis key prefix and a NATS subject
// prefix. Made and removed here for the test harnesses (libs/testing) and the benches alike.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

export const DEFAULT_SERVERS = {
  postgresUrl: 'postgres://postgres@127.0.0.1:5432/chatbot_keys',
  redisUrl: 'redis://127.0.0.1:6379',
  natsUrl: 'nats://127.0.0.1:4222',
};

/**
 * `tag` + base36 start time + `bytes` random bytes in hex is the run id (the jest global setup
 * recognises test runs' `t…` ids by that shape). Servers: those given, else DATABASE_URL,
 * REDIS_URL and NATS_URL, else this machine's.
 */
export function runNamespace(servers = {}, { tag = 't', bytes = 4, env = process.env } = {}) {
  const runId = `${tag}${Date.now().toString(36)}${randomBytes(bytes).toString('hex')}`;
  const server = new URL(servers.postgresUrl || env.DATABASE_URL || DEFAULT_SERVERS.postgresUrl);
  server.pathname = '/postgres';
  const database = new URL(server);
  database.pathname = `/${runId.toLowerCase()}`;
  return {
    runId,
    postgresUrl: server.toString(),
    databaseUrl: database.toString(),
    redisUrl: servers.redisUrl || env.REDIS_URL || DEFAULT_SERVERS.redisUrl,
    natsUrl: servers.natsUrl || env.NATS_URL || DEFAULT_SERVERS.natsUrl,
    redisPrefix: `${runId}:`,
    subjectPrefix: runId,
  };
}

/** Drops a database of the server `serverUrl` names, ending its connections first. */
export async function dropDatabase(serverUrl, name) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

/** Deletes every Redis key under `prefix`, a batch at a time (SCAN, never a blocking KEYS). */
export async function deleteRedisKeys(redisUrl, prefix) {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Deletes JetStream streams by name; a missing one is not an error. */
export async function deleteStreams(natsUrl, names) {
  if (!names.length) return;
  const nats = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nats);
    for (const name of names) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nats.close();
  }
}

/** Removes what a run left in each service: its Redis keys, its database and the `streams` named. */
export async function dropRunNamespace(namespace, { streams = [] } = {}) {
  await deleteRedisKeys(namespace.redisUrl, namespace.redisPrefix);
  await dropDatabase(namespace.postgresUrl, new URL(namespace.databaseUrl).pathname.slice(1));
  await deleteStreams(namespace.natsUrl, streams);
}
