import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { AccountEntity } from './account.entity.js';

/** Deleted chatbots stay as rows (soft delete): revoked keys keep pointing at them. */
@Entity('chatbots')
@Index('chatbots_account_listing_idx', ['accountId', 'createdAt', 'id'])
export class ChatbotEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'chatbots_pkey' })
  id: string;

  @Column({ name: 'account_id', type: 'uuid' })
  @ForeignKey(() => AccountEntity, { name: 'chatbots_account_id_fkey', onDelete: 'RESTRICT' })
  accountId: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** Millisecond precision: listing cursors carry this value and must compare exactly. */
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
