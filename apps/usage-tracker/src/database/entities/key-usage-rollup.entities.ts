import { Check, Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { USAGE_SCHEMA } from '../usage-schema.js';

/** Uses of one key in one UTC hour, rolled up from its minutes; kept USAGE_HOUR_RETENTION_DAYS (month partitions). */
@Entity({ name: 'key_usage_hours', schema: USAGE_SCHEMA })
export class KeyUsageHourEntity {
  @PrimaryColumn({ name: 'key_id', type: 'varchar', length: 64, collation: 'C', primaryKeyConstraintName: 'key_usage_hours_pkey' })
  keyId: string;

  @PrimaryColumn({ name: 'hour', type: 'timestamptz', primaryKeyConstraintName: 'key_usage_hours_pkey' })
  hour: Date;

  @Column({ name: 'count', type: 'bigint' })
  count: string;

  @Column({ name: 'refused', type: 'bigint', default: 0 })
  refused: string;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;
}

/** Uses of one key in one UTC day, rolled up with its hours; kept forever. */
@Entity({ name: 'key_usage_days', schema: USAGE_SCHEMA })
export class KeyUsageDayEntity {
  @PrimaryColumn({ name: 'key_id', type: 'varchar', length: 64, collation: 'C', primaryKeyConstraintName: 'key_usage_days_pkey' })
  keyId: string;

  @PrimaryColumn({ name: 'day', type: 'timestamptz', primaryKeyConstraintName: 'key_usage_days_pkey' })
  day: Date;

  @Column({ name: 'count', type: 'bigint' })
  count: string;

  @Column({ name: 'refused', type: 'bigint', default: 0 })
  refused: string;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;
}

/**
 * Uses written for a minute whose hour was already rolled up (a redelivery after an outage): the
 * minute row got them as always, and each such row waits here until the rollup adds it to the hour
 * and day rows and deletes it in the same transaction. Insert-only: one row per write.
 */
@Entity({ name: 'key_usage_late', schema: USAGE_SCHEMA })
@Index('key_usage_late_key_minute', ['keyId', 'minute'])
@Index('key_usage_late_minute', ['minute'])
export class KeyUsageLateEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'bigint', primaryKeyConstraintName: 'key_usage_late_pkey' })
  id: string;

  @Column({ name: 'key_id', type: 'varchar', length: 64, collation: 'C' })
  keyId: string;

  @Column({ name: 'minute', type: 'timestamptz' })
  minute: Date;

  @Column({ name: 'count', type: 'bigint' })
  count: string;

  @Column({ name: 'refused', type: 'bigint' })
  refused: string;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;
}

/**
 * The rollup's watermarks (one row). Minutes before `late_before` are in hours already rolled (or
 * being rolled): a write there also goes to `key_usage_late`. Hours before `rolled_to` are in the
 * hour and day rows. Minute rows before `minutes_from` and hour rows before `hours_from` are no
 * longer kept (null: none dropped yet).
 */
@Entity({ name: 'usage_rollup_state', schema: USAGE_SCHEMA })
@Check('usage_rollup_state_single', '"id" = 1')
export class UsageRollupStateEntity {
  @PrimaryColumn({ name: 'id', type: 'smallint', default: 1, primaryKeyConstraintName: 'usage_rollup_state_pkey' })
  id: number;

  @Column({ name: 'late_before', type: 'timestamptz' })
  lateBefore: Date;

  @Column({ name: 'rolled_to', type: 'timestamptz' })
  rolledTo: Date;

  @Column({ name: 'minutes_from', type: 'timestamptz', nullable: true })
  minutesFrom: Date | null;

  @Column({ name: 'hours_from', type: 'timestamptz', nullable: true })
  hoursFrom: Date | null;
}
