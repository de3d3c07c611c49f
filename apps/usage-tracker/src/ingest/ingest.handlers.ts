import { Inject, Injectable } from '@nestjs/common';
import { JetStreamHandlers, NatsBus } from '@app/common';
import { UsageConsumer } from './usage-consumer.js';

/** Consumes `key.used` into the usage tables from start-up until shutdown, on the shared durable consumer. */
@Injectable()
export class IngestHandlers extends JetStreamHandlers {
  constructor(
    @Inject(NatsBus) bus: NatsBus,
    @Inject(UsageConsumer) private readonly consumer: UsageConsumer,
  ) {
    super(bus);
  }

  protected async consume() {
    await this.consumer.start();
    return () => this.consumer.stop();
  }
}
