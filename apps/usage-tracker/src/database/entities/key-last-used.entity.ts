import { Column, Entity, PrimaryColumn } from 'typeorm';
import { USAGE_SCHEMA } from '../usage-schema.js';

/** The latest use of each key: what key listings show as `lastUsedAt`. */
@Entity({ name: 'key_last_used', schema: USAGE_SCHEMA })
export class KeyLastUsedEntity {
  @PrimaryColumn({ name: 'key_id', type: 'varchar', length: 64, primaryKeyConstraintName: 'key_last_used_pkey' })
  keyId: string;

  @Column({ name: 'last_used_at', type: 'timestamptz' })
  lastUsedAt: Date;
}
