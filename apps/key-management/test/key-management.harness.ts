import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { createLogger, NatsBus } from '@app/common';
import { EventSchemas, type EventMap, type EventSubject } from '@app/contracts';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@app/testing';
import { startKeyManagement } from '../src/key-management.js';

export type RecordedEvent = { [S in EventSubject]: { subject: S; event: EventMap[S] } }[EventSubject];

export interface KeyManagementUnderTest {
  app: NestFastifyApplication;
  /** A client on the run's subject prefix; it also records every key event, in arrival order. */
  bus: NatsBus;
  events: RecordedEvent[];
  databaseUrl: string;
  /** Every row of every table, as JSON text: what the database holds, for "never stored" checks. */
  dumpDatabase(): Promise<string>;
  stop(): Promise<void>;
}

const KEY_EVENTS = (Object.keys(EventSchemas) as EventSubject[]).filter((subject) => subject !== 'keyUsed');

/**
 * key-management in process on port 0, with its own migrated database and subject
 * prefix, against the real Postgres and NATS.
 */
export async function startKeyManagementUnderTest(): Promise<KeyManagementUnderTest> {
  const env = testEnvironment();
  const database: TestDatabase = await createTestDatabase(env);
  const logger = createLogger('key-management', 'warn');
  const app = await startKeyManagement(
    {
      port: 0,
      databaseUrl: database.url,
      databasePoolSize: 10,
      natsUrl: env.natsUrl,
      subjectPrefix: env.subjectPrefix,
      logLevel: 'warn',
    },
    logger,
  );
  const bus = await NatsBus.connect({ url: env.natsUrl, subjectPrefix: env.subjectPrefix, name: 'key-management-spec', logger });
  const events: RecordedEvent[] = [];
  for (const subject of KEY_EVENTS) {
    bus.on(subject, (event) => void events.push({ subject, event } as RecordedEvent));
  }
  await bus.connection.flush();

  return {
    app,
    bus,
    events,
    databaseUrl: database.url,
    dumpDatabase: () => dumpDatabase(database.url),
    stop: async () => {
      await bus.close();
      await app.close();
      await database.drop();
    },
  };
}

async function dumpDatabase(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    const dumps: string[] = [];
    for (const { name } of tables.rows) {
      const rows = await client.query(`SELECT row_to_json(t)::text AS row FROM ${client.escapeIdentifier(name)} t`);
      dumps.push(...rows.rows.map((row: { row: string }) => `${name}: ${row.row}`));
    }
    return dumps.join('\n');
  } finally {
    await client.end();
  }
}

/** The error code a bus request failed with, or 'ok'. */
export async function outcome(request: Promise<unknown>): Promise<string> {
  try {
    await request;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}
