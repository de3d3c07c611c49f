import { Column, Entity, PrimaryColumn } from 'typeorm';
import { USAGE_SCHEMA } from '../usage-schema.js';

/** Every sequence up to `applied_through` is settled (counted, or refused as malformed). */
@Entity({ name: 'stream_state', schema: USAGE_SCHEMA })
export class StreamStateEntity {
  @PrimaryColumn({ name: 'stream', type: 'varchar', length: 64, primaryKeyConstraintName: 'stream_state_pkey' })
  stream: string;

  @Column({ name: 'applied_through', type: 'bigint', default: 0 })
  appliedThrough: string;
}
