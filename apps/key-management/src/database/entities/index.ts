import { AccountEntity } from './account.entity.js';
import { ApiKeyEntity } from './api-key.entity.js';
import { AuditEventEntity } from './audit-event.entity.js';
import { ChatbotEntity } from './chatbot.entity.js';
import { UserChatbotEntity } from './user-chatbot.entity.js';
import { UserEntity } from './user.entity.js';

export { AccountEntity, ApiKeyEntity, AuditEventEntity, ChatbotEntity, UserChatbotEntity, UserEntity };

export const KEY_MANAGEMENT_ENTITIES = [AccountEntity, ChatbotEntity, UserEntity, UserChatbotEntity, ApiKeyEntity, AuditEventEntity];
