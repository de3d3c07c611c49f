import type { OnApplicationBootstrap } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import type { NatsBus } from './nats-bus.js';

/**
 * The one way a service declares what it takes from the bus: a provider extending this class
 * subscribes in `subscribe()` (NatsBus `serve`, `on`; `KeyEventSubscriber`) once the whole app is up.
 * It never unsubscribes: NatsBus tracks every subscription, and NatsModule drains them all once
 * at shutdown, before any module closes its resources, then waits for the handlers already
 * running so that requests taken are answered.
 */
export abstract class BusHandlers implements OnApplicationBootstrap {
  protected abstract subscribe(): Subscription[];

  onApplicationBootstrap(): void {
    this.subscribe();
  }
}

/**
 * The same form for a JetStream consumer, whose start is asynchronous (its stream and consumer
 * are declared first): `consume()` starts it once the whole app is up and returns how to stop it.
 * NatsModule calls that once at shutdown, together with draining the subscriptions and before any
 * module closes its resources, so that messages received are written and acked.
 */
export abstract class JetStreamHandlers implements OnApplicationBootstrap {
  constructor(private readonly natsBus: NatsBus) {}

  protected abstract consume(): Promise<() => Promise<void>>;

  async onApplicationBootstrap(): Promise<void> {
    this.natsBus.stopAtQuiesce(await this.consume());
  }
}
