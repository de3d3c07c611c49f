import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A key's own rate limit: both columns set, or neither (no limit). */
export class KeyRateLimits1796140800000 implements MigrationInterface {
  name = 'KeyRateLimits1796140800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE "api_keys" ADD "rate_limit_requests" integer`);
    await db.query(`ALTER TABLE "api_keys" ADD "rate_limit_window_seconds" integer`);
    await db.query(`ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_rate_limit_check" CHECK (${RATE_LIMIT_CHECK})`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE "api_keys" DROP CONSTRAINT "api_keys_rate_limit_check"`);
    await db.query(`ALTER TABLE "api_keys" DROP COLUMN "rate_limit_window_seconds"`);
    await db.query(`ALTER TABLE "api_keys" DROP COLUMN "rate_limit_requests"`);
  }
}

/** The same text as the entity's @Check, so that the schema drift check finds nothing to change. */
export const RATE_LIMIT_CHECK =
  '(rate_limit_requests IS NULL AND rate_limit_window_seconds IS NULL) OR ' +
  '(rate_limit_requests BETWEEN 1 AND 1000000 AND rate_limit_window_seconds BETWEEN 1 AND 86400)';
