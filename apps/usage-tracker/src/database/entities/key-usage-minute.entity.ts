import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { USAGE_SCHEMA } from '../usage-schema.js';

/**
 * Uses of one key in one UTC minute, kept USAGE_MINUTE_RETENTION_DAYS (partitioned by UTC day, see
 * usage-partitions.ts); the newest row's `last_used_at` is the key's `lastUsedAt`.
 */
@Entity({ name: 'key_usage_minutes', schema: USAGE_SCHEMA })
// BRIN (the rollup's scan of one hour): a kind of index TypeORM cannot declare, so the migration owns it.
@Index('key_usage_minutes_minute_brin', { synchronize: false })
export class KeyUsageMinuteEntity {
  /** Key ids belong to key-management; no foreign key crosses into its tables. */
  @PrimaryColumn({ name: 'key_id', type: 'varchar', length: 64, collation: 'C', primaryKeyConstraintName: 'key_usage_minutes_pkey' })
  keyId: string;

  @PrimaryColumn({ name: 'minute', type: 'timestamptz', primaryKeyConstraintName: 'key_usage_minutes_pkey' })
  minute: Date;

  @Column({ name: 'count', type: 'bigint' })
  count: string;

  /** Requests the key's rate limit refused in this minute: not uses. */
  @Column({ name: 'refused', type: 'bigint', default: 0 })
  refused: string;

  /** The latest use counted in this minute; null when the minute holds refusals only. */
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;
}
