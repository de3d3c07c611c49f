import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log. Append-only by construction rather than by convention: a trigger refuses
 * every UPDATE and TRUNCATE, and every DELETE except one made inside
 * `audit_events_purge(retention_days)`, the retention job's only way in. The purge marks
 * its own transaction (a transaction-local setting) so the trigger lets its DELETE through.
 * Where the application connects with a role of its own (not the table owner), grant it
 * INSERT and SELECT on the table only, and EXECUTE on the purge function to the retention
 * job's role: then nothing but the purge can delete, whatever the application runs.
 */
export class AuditEvents1796133385494 implements MigrationInterface {
  name = 'AuditEvents1796133385494';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE "audit_events" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "seq" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
      "action" character varying(64) NOT NULL,
      "actor_type" character varying(16) NOT NULL,
      "actor_id" uuid,
      "account_id" uuid NOT NULL,
      "chatbot_id" uuid,
      "key_id" uuid,
      "request_id" character varying(128),
      "ip" character varying(64),
      "details" jsonb NOT NULL,
      CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id"))`);
    await db.query(`CREATE INDEX "audit_events_account_idx" ON "audit_events" ("account_id", "at", "seq")`);
    await db.query(`CREATE INDEX "audit_events_chatbot_idx" ON "audit_events" ("chatbot_id", "at", "seq")`);
    await db.query(`CREATE INDEX "audit_events_key_idx" ON "audit_events" ("key_id")`);
    await db.query(`CREATE INDEX "audit_events_at_idx" ON "audit_events" ("at")`);

    await db.query(`CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_setting('audit_events.purging', true) = 'on' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await db.query(`CREATE TRIGGER "audit_events_append_only_rows" BEFORE UPDATE OR DELETE ON "audit_events"
      FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"()`);
    await db.query(`CREATE TRIGGER "audit_events_append_only_truncate" BEFORE TRUNCATE ON "audit_events"
      FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"()`);

    // SECURITY DEFINER: a role that may only INSERT and SELECT events can still be allowed to purge
    // (EXECUTE), and nothing else; EXECUTE is the owner's alone until granted.
    await db.query(`CREATE FUNCTION "audit_events_purge"(retention_days integer) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
      DECLARE
        purged bigint;
      BEGIN
        IF retention_days IS NULL OR retention_days < 1 THEN
          RAISE EXCEPTION 'retention_days must be at least 1, got %', retention_days;
        END IF;
        PERFORM set_config('audit_events.purging', 'on', true);
        DELETE FROM "audit_events" WHERE "at" < now() - make_interval(days => retention_days);
        GET DIAGNOSTICS purged = ROW_COUNT;
        PERFORM set_config('audit_events.purging', 'off', true);
        RETURN purged;
      END $$`);
    await db.query(`REVOKE ALL ON FUNCTION "audit_events_purge"(integer) FROM PUBLIC`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION "audit_events_purge"(integer)`);
    await db.query(`DROP TABLE "audit_events"`);
    await db.query(`DROP FUNCTION "audit_events_append_only"()`);
  }
}
