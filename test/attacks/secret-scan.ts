import pg from 'pg';
import { Redis } from 'ioredis';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Subjects } from '@app/contracts';
import { inboxPrefixOf } from '@app/common';
import { SERVICES } from '../../scripts/system.mjs';
import type { TestSystem } from '@app/testing';

/** One place a value was stored or carried, as text. */
export interface Found {
  where: string;
  text: string;
}

/** Every way a key could be written down: as is, base64, base64url, hex, and its secret tail alone. */
export function spellingsOf(key: string): string[] {
  const buffer = Buffer.from(key);
  const tail = key.length >= 30 ? [key.slice(12)] : [];
  return [key, buffer.toString('base64').replace(/=+$/, ''), buffer.toString('base64url'), buffer.toString('hex'), ...tail];
}

/** The first place holding any spelling of any of `keys`, or null. */
export function firstLeak(found: Found[], keys: string[]): { where: string; key: string } | null {
  for (const key of keys) {
    const spellings = spellingsOf(key);
    for (const { where, text } of found)
      if (spellings.some((spelling) => text.includes(spelling))) return { where, key: `${key.slice(0, 12)}…` };
  }
  return null;
}

/** Every row of every table in every schema of the run's database. */
export async function postgresRows(databaseUrl: string): Promise<Found[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    const found: Found[] = [];
    for (const { schema, name } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${schema}"."${name}" t`);
      found.push(...rows.rows.map(({ row }) => ({ where: `postgres ${schema}.${name}`, text: row })));
    }
    return found;
  } finally {
    await client.end();
  }
}

/** Every key under the run's prefix with its value read by type (not DUMP, whose encoding may compress). */
export async function redisEntries(redisUrl: string, prefix: string): Promise<Found[]> {
  const redis = new Redis(redisUrl);
  try {
    const found: Found[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) found.push({ where: `redis ${key}`, text: `${key} ${await readRedisValue(redis, key)}` });
    } while (cursor !== '0');
    return found;
  } finally {
    redis.disconnect();
  }
}

async function readRedisValue(redis: Redis, key: string): Promise<string> {
  switch (await redis.type(key)) {
    case 'string':
      return (await redis.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'set':
      return JSON.stringify(await redis.smembers(key));
    case 'zset':
      return JSON.stringify(await redis.zrange(key, '0', '-1', 'WITHSCORES'));
    case 'list':
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return '';
  }
}

/** What is still stored in every JetStream stream of the run (work-queue streams keep only the backlog). */
export async function jetStreamContent(nats: NatsConnection, subjectPrefix: string): Promise<Found[]> {
  const jsm: JetStreamManager = await jetstreamManager(nats);
  const found: Found[] = [];
  for await (const info of jsm.streams.list()) {
    if (!(info.config.subjects ?? []).some((subject) => subject.startsWith(`${subjectPrefix}.`))) continue;
    found.push({ where: `jetstream ${info.config.name} config`, text: JSON.stringify(info.config) });
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const message = await jsm.streams.getMessage(info.config.name, { seq }).catch(() => null);
      if (message) found.push({ where: `jetstream ${info.config.name} #${seq}`, text: `${message.subject} ${message.string()}` });
    }
  }
  return found;
}

/**
 * Everything published under the run's subject prefix and every reply inbox, while it runs.
 * `auth.verify` requests (and their replies) are the one exchange where the contract lets a key
 * travel; they are kept apart.
 */
export class BusRecorder {
  private readonly recorded: Found[] = [];
  readonly verifyRequests: Found[] = [];
  /** Inboxes the verifier answers on: its reply repeats the request's chatbot id, part of the same exchange. */
  private readonly verifyInboxes = new Set<string>();
  private subscriptions: Subscription[] = [];

  /** Every message outside the `auth.verify` exchanges. */
  get messages(): Found[] {
    return this.recorded.filter(({ where }) => !this.verifyInboxes.has(where.slice('bus '.length)));
  }

  private constructor(readonly connection: NatsConnection) {}

  static async start(natsUrl: string, subjectPrefix: string): Promise<BusRecorder> {
    const recorder = new BusRecorder(await connect({ servers: natsUrl, name: 'secret-scan' }));
    const verify = `${subjectPrefix}.${Subjects.authVerify}`;
    // Replies to the services' own requests arrive under their own inbox prefixes.
    const inboxes = ['_INBOX', ...SERVICES.map((service) => inboxPrefixOf(service.name))].map((prefix) => `${prefix}.>`);
    for (const subject of [`${subjectPrefix}.>`, ...inboxes]) {
      recorder.subscriptions.push(
        recorder.connection.subscribe(subject, {
          callback: (_error, message) => {
            const found = { where: `bus ${message.subject}`, text: message.string() };
            if (message.subject !== verify) return void recorder.recorded.push(found);
            recorder.verifyRequests.push(found);
            if (message.reply) recorder.verifyInboxes.add(message.reply);
          },
        }),
      );
    }
    await recorder.connection.flush();
    return recorder;
  }

  async stop(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await this.connection.close();
  }
}

/** Everything the system stores, carries or logs, for one scan. */
export async function everythingStored(system: TestSystem, recorder: BusRecorder): Promise<Record<string, Found[]>> {
  return {
    postgres: await postgresRows(system.databaseUrl),
    redis: await redisEntries(system.env.redisUrl, system.env.redisPrefix),
    jetstream: await jetStreamContent(recorder.connection, system.env.subjectPrefix),
    bus: recorder.messages,
    logs: system
      .logs()
      .split('\n')
      .map((line, index) => ({ where: `log line ${index + 1}`, text: line })),
  };
}
