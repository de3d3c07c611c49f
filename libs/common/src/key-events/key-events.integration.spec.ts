import { afterEach, describe, expect, it } from '@jest/globals';
import { headers, type Msg } from '@nats-io/transport-node';
import { Subjects } from '@app/contracts';
import { eventually, testEnvironment } from '@app/testing';
import { createLogger } from '../logger.js';
import { NatsBus } from '../nats-bus.js';
import { KeyEventPublisher } from './key-event-publisher.js';
import { KeyEventSubscriber } from './key-event-subscriber.js';
import type { MissedEventsReason } from './key-event-sequence.js';

describe('key events over real NATS', () => {
  const env = testEnvironment();
  const logger = createLogger('key-events-spec', 'silent');
  const buses: NatsBus[] = [];
  const stops: (() => void)[] = [];
  const connect = async () => {
    const bus = await NatsBus.connect({ url: env.natsUrl, subjectPrefix: env.subjectPrefix, name: 'spec', logger });
    buses.push(bus);
    return bus;
  };
  afterEach(async () => {
    stops.splice(0).forEach((stop) => stop());
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  /** Everything under the key event stem as it is on the wire. */
  function wire(bus: NatsBus): Msg[] {
    const seen: Msg[] = [];
    bus.connection.subscribe(`${env.subjectPrefix}.keys.events.>`, { callback: (_error, msg) => void seen.push(msg) });
    return seen;
  }

  it('numbers every kind of event in one sequence, on its prefixed subject, and the heartbeat repeats the last number', async () => {
    const listener = await connect();
    const seen = wire(listener);
    await listener.connection.flush();
    const sut = new KeyEventPublisher(await connect());

    sut.publish('keyRevoked', { keyId: 'k1', keyHash: 'ab'.repeat(32), accountId: 'a1', chatbotId: 'c1' });
    sut.publish('planChanged', { accountId: 'a1', plan: 'free' });
    stops.push(sut.startHeartbeat(20));

    await eventually(
      async () => seen.length,
      (count) => count >= 3,
      { what: 'two events and a heartbeat' },
    );
    const [revoked, plan, heartbeat] = seen;
    expect([revoked.subject, plan.subject, heartbeat.subject]).toEqual(
      [Subjects.keyRevoked, Subjects.planChanged, Subjects.keyEventsHeartbeat].map((subject) => `${env.subjectPrefix}.${subject}`),
    );
    expect([revoked, plan, heartbeat].map((msg) => msg.headers?.get('Key-Event-Seq'))).toEqual(['1', '2', '2']);
    const publishers = new Set([revoked, plan, heartbeat].map((msg) => msg.headers?.get('Key-Event-Publisher')));
    expect(publishers.size).toBe(1);
    expect(Number(revoked.headers?.get('Key-Event-Publisher-Started'))).toBeGreaterThan(0);
    expect(heartbeat.string()).toBe('{}');
    expect(plan.json()).toEqual({ accountId: 'a1', plan: 'free' });
  });

  it('hands each kind to its handler in publish order, and reports a skipped number as missed events', async () => {
    const subscriberBus = await connect();
    const received: string[] = [];
    const missed: MissedEventsReason[] = [];
    new KeyEventSubscriber(subscriberBus).subscribe(
      {
        keyRevoked: (event) => void received.push(`revoked ${event.keyId}`),
        planChanged: (event) => void received.push(`plan ${event.plan}`),
      },
      (reason) => missed.push(reason),
    );
    await subscriberBus.connection.flush();
    const publisherBus = await connect();
    const sut = new KeyEventPublisher(publisherBus);

    sut.publish('keyRevoked', { keyId: 'k1', keyHash: 'ab'.repeat(32), accountId: 'a1', chatbotId: 'c1' });
    // A kind without a handler still counts for the numbering: no gap after it.
    sut.publish('keyRenamed', { keyId: 'k1', accountId: 'a1' });
    sut.publish('planChanged', { accountId: 'a1', plan: 'free' });
    await eventually(
      async () => received.length,
      (count) => count >= 2,
      { what: 'the handled events' },
    );
    expect(received).toEqual(['revoked k1', 'plan free']);
    expect(missed).toEqual([]);

    // The same publisher, number 5 after 3: number 4 never arrived.
    const mark = headers();
    mark.set('Key-Event-Publisher', publisherIdOf(sut));
    mark.set('Key-Event-Seq', '5');
    mark.set('Key-Event-Publisher-Started', String(Date.now()));
    publisherBus.publish('planChanged', { accountId: 'a1', plan: 'entry' }, mark);
    await eventually(
      async () => missed,
      (reasons) => reasons.length > 0,
      { what: 'the gap reported' },
    );
    expect(missed).toEqual(['gap']);
  });
});

/** The publisher's id as it puts it on the wire (a private field: the wire is what is under test). */
function publisherIdOf(publisher: KeyEventPublisher): string {
  return (publisher as unknown as { publisherId: string }).publisherId;
}
