import { Module } from '@nestjs/common';
import { LookupHandlers } from './lookup.handlers.js';
import { LookupService } from './lookup.service.js';

@Module({ providers: [LookupService, LookupHandlers] })
export class LookupModule {}
