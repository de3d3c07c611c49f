import { describe, expect, it, jest } from '@jest/globals';
import type { KeyEventPublisher } from '@app/common';
import { EventPublisher } from './event-publisher.js';
import { eventPublishFailures, eventsPublished } from './event-metrics.js';

async function countOf(counter: typeof eventsPublished, event: string): Promise<number> {
  const { values } = await counter.get();
  return values.find((value) => value.labels.event === event)?.value ?? 0;
}

describe('EventPublisher', () => {
  const event = { accountId: 'account-1', plan: 'free' as const };

  it('publishes the event and counts it by name', async () => {
    const keyEvents = { publish: jest.fn() };
    const sut = new EventPublisher(keyEvents as unknown as KeyEventPublisher);
    const before = await countOf(eventsPublished, 'planChanged');

    sut.publish('planChanged', event);

    expect(keyEvents.publish).toHaveBeenCalledWith('planChanged', event);
    expect(await countOf(eventsPublished, 'planChanged')).toBe(before + 1);
  });

  it('counts a publish NATS refuses as a failure, and still lets the caller see the error', async () => {
    const refused = new Error('connection closed');
    const keyEvents = {
      publish: jest.fn(() => {
        throw refused;
      }),
    };
    const sut = new EventPublisher(keyEvents as unknown as KeyEventPublisher);
    const [failuresBefore, publishedBefore] = [
      await countOf(eventPublishFailures, 'planChanged'),
      await countOf(eventsPublished, 'planChanged'),
    ];

    expect(() => sut.publish('planChanged', event)).toThrow(refused);

    expect(await countOf(eventPublishFailures, 'planChanged')).toBe(failuresBefore + 1);
    expect(await countOf(eventsPublished, 'planChanged')).toBe(publishedBefore);
  });
});
