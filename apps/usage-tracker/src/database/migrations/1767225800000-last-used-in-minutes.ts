import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each minute row keeps the latest use it counted, so a batch writes one row per key and
 * minute instead of two (the separate `key_last_used` row doubled the tracker's writes);
 * a key's `lastUsedAt` is its newest minute row's. Minute rows are updated in place many
 * times a minute: room left in each page (fillfactor) keeps those updates HOT, off the index.
 * A fillfactor applies to pages written from now on, which is where the current minutes go.
 */
export class LastUsedInMinutes1767225800000 implements MigrationInterface {
  name = 'LastUsedInMinutes1767225800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE "usage"."key_usage_minutes" ADD "last_used_at" TIMESTAMP WITH TIME ZONE`);
    // A key's latest use lies in its newest minute row: that row takes the exact time.
    await db.query(`UPDATE "usage"."key_usage_minutes" AS m SET "last_used_at" = l."last_used_at"
      FROM "usage"."key_last_used" AS l
      WHERE m."key_id" = l."key_id" AND m."minute" = date_trunc('minute', l."last_used_at")`);
    // Older rows never answer lastUsedAt; the start of their minute is a true lower bound.
    await db.query(`UPDATE "usage"."key_usage_minutes" SET "last_used_at" = "minute" WHERE "last_used_at" IS NULL`);
    await db.query(`ALTER TABLE "usage"."key_usage_minutes" ALTER COLUMN "last_used_at" SET NOT NULL`);
    await db.query(`ALTER TABLE "usage"."key_usage_minutes" SET (fillfactor = 50)`);
    await db.query(`DROP TABLE "usage"."key_last_used"`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE "usage"."key_last_used" (
      "key_id" character varying(64) NOT NULL,
      "last_used_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      CONSTRAINT "key_last_used_pkey" PRIMARY KEY ("key_id"))`);
    await db.query(`INSERT INTO "usage"."key_last_used" ("key_id", "last_used_at")
      SELECT "key_id", max("last_used_at") FROM "usage"."key_usage_minutes" GROUP BY "key_id"`);
    await db.query(`ALTER TABLE "usage"."key_usage_minutes" RESET (fillfactor)`);
    await db.query(`ALTER TABLE "usage"."key_usage_minutes" DROP COLUMN "last_used_at"`);
  }
}
