import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { AuditAction, AuditActorType } from '@app/contracts';

/**
 * One change, written in the transaction that made it. Append-only: a trigger refuses
 * UPDATE, and DELETE outside the retention function (see the audit_events migration).
 * No foreign keys: an event outlives nothing it names, and nothing it names is ever
 * deleted as a row anyway.
 */
@Entity('audit_events')
@Index('audit_events_account_idx', ['accountId', 'at', 'seq'])
@Index('audit_events_chatbot_idx', ['chatbotId', 'at', 'seq'])
@Index('audit_events_key_idx', ['keyId'])
@Index('audit_events_at_idx', ['at'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'audit_events_pkey' })
  id: string;

  /** The transaction's time, in milliseconds: cursors carry it and must compare exactly. */
  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  at: Date;

  /**
   * Insertion order: breaks ties between events of the same millisecond (every event of one
   * transaction shares its `at`), so (at, seq) orders events as they happened. A bigint: a string here.
   */
  @Column({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS' })
  seq: string;

  @Column({ type: 'varchar', length: 64 })
  action: AuditAction;

  @Column({ name: 'actor_type', type: 'varchar', length: 16 })
  actorType: AuditActorType;

  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId: string;

  @Column({ name: 'chatbot_id', type: 'uuid', nullable: true })
  chatbotId: string | null;

  @Column({ name: 'key_id', type: 'uuid', nullable: true })
  keyId: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ type: 'jsonb' })
  details: Record<string, unknown>;
}
