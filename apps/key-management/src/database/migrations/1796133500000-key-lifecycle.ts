import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Key lifecycle: an expiry, a reversible enabled flag, an IP allow-list and the key a roll
 * replaced. A roll's grace period is a revocation set in the future (`revoked_at` later than
 * now), so the "live key" indexes can no longer be partial on `revoked_at IS NULL`.
 */
export class KeyLifecycle1796133500000 implements MigrationInterface {
  name = 'KeyLifecycle1796133500000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE "api_keys" ADD "expires_at" TIMESTAMP(3) WITH TIME ZONE`);
    await db.query(`ALTER TABLE "api_keys" ADD "enabled" boolean NOT NULL DEFAULT true`);
    await db.query(`ALTER TABLE "api_keys" ADD "allowed_ips" text array`);
    await db.query(`ALTER TABLE "api_keys" ADD "rolled_from" uuid`);
    await db.query(
      `ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_rolled_from_fkey" FOREIGN KEY ("rolled_from") REFERENCES "api_keys"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await db.query(`DROP INDEX "public"."api_keys_chatbot_active_idx"`);
    await db.query(`DROP INDEX "public"."api_keys_account_user_keys_active_idx"`);
    await db.query(`CREATE INDEX "api_keys_chatbot_idx" ON "api_keys" ("chatbot_id", "created_at")`);
    await db.query(`CREATE INDEX "api_keys_account_user_keys_idx" ON "api_keys" ("account_id", "created_at") WHERE type = 'user'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX "public"."api_keys_account_user_keys_idx"`);
    await db.query(`DROP INDEX "public"."api_keys_chatbot_idx"`);
    await db.query(
      `CREATE INDEX "api_keys_account_user_keys_active_idx" ON "api_keys" ("account_id", "created_at") WHERE revoked_at IS NULL AND type = 'user'`,
    );
    await db.query(`CREATE INDEX "api_keys_chatbot_active_idx" ON "api_keys" ("chatbot_id", "created_at") WHERE revoked_at IS NULL`);
    await db.query(`ALTER TABLE "api_keys" DROP CONSTRAINT "api_keys_rolled_from_fkey"`);
    await db.query(`ALTER TABLE "api_keys" DROP COLUMN "rolled_from"`);
    await db.query(`ALTER TABLE "api_keys" DROP COLUMN "allowed_ips"`);
    await db.query(`ALTER TABLE "api_keys" DROP COLUMN "enabled"`);
    await db.query(`ALTER TABLE "api_keys" DROP COLUMN "expires_at"`);
  }
}
