import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { AccountEntity } from './account.entity.js';
import { ChatbotEntity } from './chatbot.entity.js';
import { UserEntity } from './user.entity.js';
import { RATE_LIMIT_CHECK } from '../migrations/1796140800000-key-rate-limits.js';

export const API_KEY_TYPES = ['chatbot', 'user'] as const;
export type ApiKeyType = (typeof API_KEY_TYPES)[number];

/**
 * Only the SHA-256 of a key is stored, never the key. Revoked keys stay in the
 * table (revoked_at set): usage history points at them. A revoked_at in the future is a
 * roll's grace period: the key works until then.
 */
@Entity('api_keys')
@Check(
  'api_keys_holder_check',
  "(type = 'chatbot' AND chatbot_id IS NOT NULL AND user_id IS NULL) OR (type = 'user' AND chatbot_id IS NULL AND user_id IS NOT NULL)",
)
@Check('api_keys_rate_limit_check', RATE_LIMIT_CHECK)
@Index('api_keys_key_hash_key', ['keyHash'], { unique: true })
@Index('api_keys_chatbot_idx', ['chatbotId', 'createdAt'])
@Index('api_keys_account_user_keys_idx', ['accountId', 'createdAt'], { where: "type = 'user'" })
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'api_keys_pkey' })
  id: string;

  @Column({ name: 'account_id', type: 'uuid' })
  @ForeignKey(() => AccountEntity, { name: 'api_keys_account_id_fkey', onDelete: 'RESTRICT' })
  accountId: string;

  /** Set for chatbot keys; null for user-level keys. */
  @Column({ name: 'chatbot_id', type: 'uuid', nullable: true })
  @ForeignKey(() => ChatbotEntity, { name: 'api_keys_chatbot_id_fkey', onDelete: 'RESTRICT' })
  chatbotId: string | null;

  @Column({ type: 'enum', enum: [...API_KEY_TYPES], enumName: 'api_key_type' })
  type: ApiKeyType;

  /** The holder of a user-level key; null for chatbot keys, which act for no user. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  @ForeignKey(() => UserEntity, { name: 'api_keys_user_id_fkey', onDelete: 'RESTRICT' })
  userId: string | null;

  @Column({ name: 'created_by', type: 'uuid' })
  @ForeignKey(() => UserEntity, { name: 'api_keys_created_by_fkey', onDelete: 'RESTRICT' })
  createdBy: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  /** First 12 characters of the key, for listings; null for a legacy key imported by hash alone. */
  @Column({ type: 'varchar', length: 12, nullable: true })
  prefix: string | null;

  @Column({ name: 'key_hash', type: 'char', length: 64 })
  keyHash: string;

  @Column({ type: 'boolean', default: false })
  legacy: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  /** The key's rate limit (requests per window); both null: no limit. */
  @Column({ name: 'rate_limit_requests', type: 'integer', nullable: true })
  rateLimitRequests: number | null;

  @Column({ name: 'rate_limit_window_seconds', type: 'integer', nullable: true })
  rateLimitWindowSeconds: number | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'expires_at', type: 'timestamptz', precision: 3, nullable: true })
  expiresAt: Date | null;

  /** false: refused like a revoked key, but reversible, and still one of the chatbot's 10. */
  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  /** Canonical addresses and CIDRs the key may be used from; null: anywhere. */
  @Column({ name: 'allowed_ips', type: 'text', array: true, nullable: true })
  allowedIps: string[] | null;

  /** The key this one replaced by a roll. */
  @Column({ name: 'rolled_from', type: 'uuid', nullable: true })
  @ForeignKey(() => ApiKeyEntity, { name: 'api_keys_rolled_from_fkey', onDelete: 'RESTRICT' })
  rolledFrom: string | null;
}
