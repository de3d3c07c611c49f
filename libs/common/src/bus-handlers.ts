import type { OnApplicationBootstrap } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';

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
