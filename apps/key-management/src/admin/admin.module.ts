import { Module } from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service.js';
import { ChatbotsService } from '../chatbots/chatbots.service.js';
import { UserKeysService } from '../keys/user-keys.service.js';
import { UsersService } from '../users/users.service.js';
import { AdminHandlers } from './admin.handlers.js';

@Module({ providers: [AccountsService, ChatbotsService, UsersService, UserKeysService, AdminHandlers] })
export class AdminModule {}
