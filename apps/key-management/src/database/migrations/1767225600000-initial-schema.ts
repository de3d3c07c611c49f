import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Accounts, chatbots, users with their chatbot assignments, and API keys (hashes only). */
export class InitialSchema1767225600000 implements MigrationInterface {
  name = 'InitialSchema1767225600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TYPE "public"."account_plan" AS ENUM('free', 'entry', 'standard', 'professional')`);
    await db.query(`CREATE TABLE "accounts" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "name" character varying(200) NOT NULL,
      "plan" "public"."account_plan" NOT NULL,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "accounts_pkey" PRIMARY KEY ("id"))`);

    await db.query(`CREATE TABLE "chatbots" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "account_id" uuid NOT NULL,
      "name" character varying(200) NOT NULL,
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "deleted_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "chatbots_pkey" PRIMARY KEY ("id"))`);
    await db.query(`CREATE INDEX "chatbots_account_listing_idx" ON "chatbots" ("account_id", "created_at", "id")`);

    await db.query(`CREATE TYPE "public"."user_role" AS ENUM('owner', 'admin', 'member')`);
    await db.query(`CREATE TABLE "users" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "account_id" uuid NOT NULL,
      "email" character varying(320) NOT NULL,
      "role" "public"."user_role" NOT NULL,
      "sso_subject" character varying(255),
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "users_pkey" PRIMARY KEY ("id"))`);
    await db.query(`CREATE UNIQUE INDEX "users_sso_subject_key" ON "users" ("sso_subject")`);
    await db.query(`CREATE INDEX "users_account_id_idx" ON "users" ("account_id")`);

    await db.query(`CREATE TABLE "user_chatbots" (
      "user_id" uuid NOT NULL,
      "chatbot_id" uuid NOT NULL,
      CONSTRAINT "user_chatbots_pkey" PRIMARY KEY ("user_id", "chatbot_id"))`);
    await db.query(`CREATE INDEX "user_chatbots_chatbot_id_idx" ON "user_chatbots" ("chatbot_id")`);

    await db.query(`CREATE TYPE "public"."api_key_type" AS ENUM('chatbot', 'user')`);
    await db.query(`CREATE TABLE "api_keys" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "account_id" uuid NOT NULL,
      "chatbot_id" uuid,
      "type" "public"."api_key_type" NOT NULL,
      "user_id" uuid,
      "created_by" uuid NOT NULL,
      "name" character varying(64) NOT NULL,
      "prefix" character varying(12),
      "key_hash" character(64) NOT NULL,
      "legacy" boolean NOT NULL DEFAULT false,
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "revoked_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "api_keys_holder_check" CHECK ((type = 'chatbot' AND chatbot_id IS NOT NULL AND user_id IS NULL) OR (type = 'user' AND chatbot_id IS NULL AND user_id IS NOT NULL)),
      CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id"))`);
    await db.query(`CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys" ("key_hash")`);
    await db.query(`CREATE INDEX "api_keys_chatbot_active_idx" ON "api_keys" ("chatbot_id", "created_at") WHERE revoked_at IS NULL`);
    await db.query(
      `CREATE INDEX "api_keys_account_user_keys_active_idx" ON "api_keys" ("account_id", "created_at") WHERE revoked_at IS NULL AND type = 'user'`,
    );

    const foreignKeys: [table: string, name: string, column: string, references: string, onDelete: string][] = [
      ['chatbots', 'chatbots_account_id_fkey', 'account_id', 'accounts', 'RESTRICT'],
      ['users', 'users_account_id_fkey', 'account_id', 'accounts', 'RESTRICT'],
      ['user_chatbots', 'user_chatbots_user_id_fkey', 'user_id', 'users', 'CASCADE'],
      ['user_chatbots', 'user_chatbots_chatbot_id_fkey', 'chatbot_id', 'chatbots', 'CASCADE'],
      ['api_keys', 'api_keys_account_id_fkey', 'account_id', 'accounts', 'RESTRICT'],
      ['api_keys', 'api_keys_chatbot_id_fkey', 'chatbot_id', 'chatbots', 'RESTRICT'],
      ['api_keys', 'api_keys_user_id_fkey', 'user_id', 'users', 'RESTRICT'],
      ['api_keys', 'api_keys_created_by_fkey', 'created_by', 'users', 'RESTRICT'],
    ];
    for (const [table, name, column, references, onDelete] of foreignKeys) {
      await db.query(
        `ALTER TABLE "${table}" ADD CONSTRAINT "${name}" FOREIGN KEY ("${column}") REFERENCES "${references}"("id") ON DELETE ${onDelete} ON UPDATE NO ACTION`,
      );
    }
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE "api_keys"`);
    await db.query(`DROP TYPE "public"."api_key_type"`);
    await db.query(`DROP TABLE "user_chatbots"`);
    await db.query(`DROP TABLE "users"`);
    await db.query(`DROP TYPE "public"."user_role"`);
    await db.query(`DROP TABLE "chatbots"`);
    await db.query(`DROP TABLE "accounts"`);
    await db.query(`DROP TYPE "public"."account_plan"`);
  }
}
