import { Global, Module } from '@nestjs/common';
import { KeyEventPublisher } from '@app/common';
import { EventPublisher } from './event-publisher.js';

@Global()
@Module({ providers: [KeyEventPublisher, EventPublisher], exports: [EventPublisher] })
export class EventsModule {}
