import { Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { ChatbotEntity } from './chatbot.entity.js';
import { UserEntity } from './user.entity.js';

/** A member reaches only the chatbots assigned here; owners and admins reach all of their account's. */
@Entity('user_chatbots')
@Index('user_chatbots_chatbot_id_idx', ['chatbotId'])
export class UserChatbotEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid', primaryKeyConstraintName: 'user_chatbots_pkey' })
  @ForeignKey(() => UserEntity, { name: 'user_chatbots_user_id_fkey', onDelete: 'CASCADE' })
  userId: string;

  @PrimaryColumn({ name: 'chatbot_id', type: 'uuid', primaryKeyConstraintName: 'user_chatbots_pkey' })
  @ForeignKey(() => ChatbotEntity, { name: 'user_chatbots_chatbot_id_fkey', onDelete: 'CASCADE' })
  chatbotId: string;
}
