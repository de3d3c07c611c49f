import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Requests a key's rate limit refused, per minute beside its uses. A minute may hold refusals
 * only, so its last use may be none.
 */
export class RefusedRequests1796140900000 implements MigrationInterface {
  name = 'RefusedRequests1796140900000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE "usage"."key_usage_minutes" ADD "refused" bigint NOT NULL DEFAULT 0`);
    await db.query(`ALTER TABLE "usage"."key_usage_minutes" ALTER COLUMN "last_used_at" DROP NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM "usage"."key_usage_minutes" WHERE "last_used_at" IS NULL`);
    await db.query(`ALTER TABLE "usage"."key_usage_minutes" ALTER COLUMN "last_used_at" SET NOT NULL`);
    await db.query(`ALTER TABLE "usage"."key_usage_minutes" DROP COLUMN "refused"`);
  }
}
