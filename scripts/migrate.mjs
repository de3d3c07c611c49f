// `npm run migrate`: applies every service's migrations to DATABASE_URL, creating the database if
// missing; retries with back-off while the database does not answer (MIGRATION_TIMEOUT_SECONDS).
// `node scripts/migrate.mjs --wait` only waits until another process has applied them.
import { migrate } from './system.mjs';

try {
  await migrate(process.env, { args: process.argv.slice(2) });
} catch (error) {
  process.stderr.write(`migrate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
