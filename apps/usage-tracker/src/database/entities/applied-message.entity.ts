import { Entity, PrimaryColumn } from 'typeorm';
import { USAGE_SCHEMA } from '../usage-schema.js';

/**
 * Stream sequences already counted, written in the same transaction as the counts. Rows at
 * or below the consumer's ack floor are pruned into `stream_state.applied_through`.
 */
@Entity({ name: 'applied_messages', schema: USAGE_SCHEMA })
export class AppliedMessageEntity {
  @PrimaryColumn({ name: 'stream', type: 'varchar', length: 64, primaryKeyConstraintName: 'applied_messages_pkey' })
  stream: string;

  @PrimaryColumn({ name: 'seq', type: 'bigint', primaryKeyConstraintName: 'applied_messages_pkey' })
  seq: string;
}
