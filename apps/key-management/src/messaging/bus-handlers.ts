import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';

/**
 * Subscribes once the app is up and drains before shutdown hooks close the database,
 * so requests already taken are answered rather than cut off.
 */
export abstract class BusHandlers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private subscriptions: Subscription[] = [];

  protected abstract subscribe(): Subscription[];

  onApplicationBootstrap(): void {
    this.subscriptions = this.subscribe();
  }

  async beforeApplicationShutdown(): Promise<void> {
    const subscriptions = this.subscriptions;
    this.subscriptions = [];
    await Promise.allSettled(subscriptions.map((subscription) => subscription.drain()));
  }
}
