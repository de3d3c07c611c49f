import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { z } from 'zod';
import { loadConfig } from '@app/common';
import { AuditRetentionEnvSchema } from '../config.js';

/**
 * Deletes audit events older than `retentionDays`, through `audit_events_purge`: the
 * only way a row leaves the append-only table. Answers how many went.
 */
export async function purgeAuditEvents(databaseUrl: string, retentionDays: number): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'audit-retention' });
  await client.connect();
  try {
    const result = await client.query<{ purged: string }>('SELECT audit_events_purge($1) AS purged', [retentionDays]);
    return Number(result.rows[0].purged);
  } finally {
    await client.end();
  }
}

/** `npm run audit:retention` and the k8s CronJob: one run, one line, exit 0 or 1. */
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let config: z.infer<typeof AuditRetentionEnvSchema>;
  try {
    config = loadConfig(AuditRetentionEnvSchema);
  } catch (error) {
    process.stderr.write(`audit-retention: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const { host, pathname } = new URL(config.DATABASE_URL);
  purgeAuditEvents(config.DATABASE_URL, config.AUDIT_RETENTION_DAYS).then(
    (purged) => {
      process.stdout.write(`audit-retention: ${host}${pathname}: purged ${purged} events older than ${config.AUDIT_RETENTION_DAYS} days\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`audit-retention: failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
