import { Module } from '@nestjs/common';
import { ActorResolver } from '../access/actor-resolver.js';
import { ChatbotAccess } from '../access/chatbot-access.js';
import { AuditEventsService } from '../audit/audit-events.service.js';
import { KeysService } from '../keys/keys.service.js';
import { ManagementHandlers } from './management.handlers.js';

@Module({ providers: [ActorResolver, ChatbotAccess, KeysService, AuditEventsService, ManagementHandlers] })
export class ManagementModule {}
