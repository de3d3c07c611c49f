import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-key minute counts, last-used times, and the applied stream sequence runs that make
 * consuming idempotent. The `usage` schema itself is created by the migration command
 * (the migrations table lives in it), so `down` leaves it in place.
 */
export class UsageSchema1767225700000 implements MigrationInterface {
  name = 'UsageSchema1767225700000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE "usage"."key_usage_minutes" (
      "key_id" character varying(64) NOT NULL,
      "minute" TIMESTAMP WITH TIME ZONE NOT NULL,
      "count" bigint NOT NULL,
      CONSTRAINT "key_usage_minutes_pkey" PRIMARY KEY ("key_id", "minute"))`);
    await db.query(`CREATE TABLE "usage"."key_last_used" (
      "key_id" character varying(64) NOT NULL,
      "last_used_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      CONSTRAINT "key_last_used_pkey" PRIMARY KEY ("key_id"))`);
    await db.query(`CREATE TABLE "usage"."applied_ranges" (
      "stream" character varying(64) NOT NULL,
      "first_seq" bigint NOT NULL,
      "last_seq" bigint NOT NULL,
      CONSTRAINT "applied_ranges_pkey" PRIMARY KEY ("stream", "first_seq"))`);
    await db.query(`CREATE TABLE "usage"."stream_state" (
      "stream" character varying(64) NOT NULL,
      "applied_through" bigint NOT NULL DEFAULT '0',
      CONSTRAINT "stream_state_pkey" PRIMARY KEY ("stream"))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE "usage"."stream_state"`);
    await db.query(`DROP TABLE "usage"."applied_ranges"`);
    await db.query(`DROP TABLE "usage"."key_last_used"`);
    await db.query(`DROP TABLE "usage"."key_usage_minutes"`);
  }
}
