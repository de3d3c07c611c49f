import { afterEach, describe, expect, it } from '@jest/globals';
import { eventually, testEnvironment } from '@app/testing';
import { createLogger } from './logger.js';
import { BusUnavailableError, NatsBus } from './nats-bus.js';

describe('NatsBus shutdown (real NATS)', () => {
  const env = testEnvironment();
  const logger = createLogger('nats-bus-spec', 'silent');
  const buses: NatsBus[] = [];
  const connect = async () => {
    const bus = await NatsBus.connect({ url: env.natsUrl, subjectPrefix: env.subjectPrefix, name: 'spec', logger });
    buses.push(bus);
    return bus;
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  it('answers the requests it is handling before it stops, and takes no new ones', async () => {
    const server = await connect();
    const client = await connect();
    let release: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      server.serve('lookupAccount', 'spec', async ({ accountId }) => {
        resolve();
        await new Promise<void>((done) => (release = done));
        return { accountId, plan: 'entry' as const };
      });
    });
    await server.connection.flush();

    const inFlight = client.request('lookupAccount', { accountId: 'acct-1' }, 5000);
    await started;
    const quiesced = server.quiesce(5000);
    let releasedAt = 0;
    setTimeout(() => {
      releasedAt = Date.now();
      release();
    }, 200);
    await quiesced;
    // quiesce waited for the running handler, not just for the subscription to stop.
    expect(releasedAt).toBeGreaterThan(0);
    await expect(inFlight).resolves.toEqual({ accountId: 'acct-1', plan: 'entry' });

    await expect(client.request('lookupAccount', { accountId: 'acct-2' }, 500)).rejects.toBeInstanceOf(BusUnavailableError);
  });

  it('gives up waiting after its bound', async () => {
    const server = await connect();
    const client = await connect();
    let arrived!: () => void;
    const running = new Promise<void>((resolve) => (arrived = resolve));
    server.serve('lookupAccount', 'spec', () => {
      arrived();
      return new Promise(() => undefined);
    });
    await server.connection.flush();
    void client.request('lookupAccount', { accountId: 'acct-1' }, 3000).catch(() => undefined);
    await running;

    const before = Date.now();
    await server.quiesce(300);
    expect(Date.now() - before).toBeLessThan(2000);
  });

  it('stops the consumers given to it once, and waits until they have finished what they hold', async () => {
    const bus = await connect();
    let stopped = 0;
    let finish!: () => void;
    bus.stopAtQuiesce(() => {
      stopped += 1;
      return new Promise<void>((resolve) => (finish = resolve));
    });

    let quiesced = false;
    const quiescing = bus.quiesce(5000).then(() => (quiesced = true));
    await eventually(
      async () => stopped,
      (count) => count === 1,
      { what: 'the consumer asked to stop' },
    );
    expect(quiesced).toBe(false);
    finish();
    await quiescing;

    await bus.quiesce(5000);
    expect(stopped).toBe(1);
  });
});
