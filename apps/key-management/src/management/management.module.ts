import { Module } from '@nestjs/common';
import { ActorResolver } from '../access/actor-resolver.js';
import { ChatbotAccess } from '../access/chatbot-access.js';
import { KeysService } from '../keys/keys.service.js';
import { ManagementHandlers } from './management.handlers.js';

@Module({ providers: [ActorResolver, ChatbotAccess, KeysService, ManagementHandlers] })
export class ManagementModule {}
