import { Column, Entity, PrimaryColumn } from 'typeorm';
import { USAGE_SCHEMA } from '../usage-schema.js';

/**
 * Runs of stream sequences already counted, written in the same transaction as the
 * counts. Runs at or below the consumer's ack floor are pruned into
 * `stream_state.applied_through`.
 */
@Entity({ name: 'applied_ranges', schema: USAGE_SCHEMA })
export class AppliedRangeEntity {
  @PrimaryColumn({ name: 'stream', type: 'varchar', length: 64, primaryKeyConstraintName: 'applied_ranges_pkey' })
  stream: string;

  @PrimaryColumn({ name: 'first_seq', type: 'bigint', primaryKeyConstraintName: 'applied_ranges_pkey' })
  firstSeq: string;

  @Column({ name: 'last_seq', type: 'bigint' })
  lastSeq: string;
}
