import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { ROLES, type Role } from '@app/contracts';
import { AccountEntity } from './account.entity.js';

@Entity('users')
@Index('users_account_id_idx', ['accountId'])
@Index('users_sso_subject_key', ['ssoSubject'], { unique: true })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'users_pkey' })
  id: string;

  @Column({ name: 'account_id', type: 'uuid' })
  @ForeignKey(() => AccountEntity, { name: 'users_account_id_fkey', onDelete: 'RESTRICT' })
  accountId: string;

  @Column({ type: 'varchar', length: 320 })
  email: string;

  @Column({ type: 'enum', enum: [...ROLES], enumName: 'user_role' })
  role: Role;

  /** The `sub` of the customer's SSO tokens; unique so that a token matches at most one user. */
  @Column({ name: 'sso_subject', type: 'varchar', length: 255, nullable: true })
  ssoSubject: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
