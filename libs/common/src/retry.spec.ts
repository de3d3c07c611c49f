import { describe, expect, it } from '@jest/globals';
import { isUnreachable, retryWithBackoff } from './retry.js';

/** A clock that moves only when the code under test sleeps. */
function fakeClock() {
  let now = 0;
  const pauses: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      pauses.push(ms);
      now += ms;
    },
    pauses,
  };
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('retryWithBackoff', () => {
  it('retries a refused connection with doubling pauses until it answers', async () => {
    const clock = fakeClock();
    let attempts = 0;
    const sut = retryWithBackoff(
      async () => {
        attempts += 1;
        if (attempts < 6) throw refused();
        return 'migrated';
      },
      { timeoutMs: 60_000, retryable: isUnreachable, initialDelayMs: 500, maxDelayMs: 4_000, ...clock },
    );
    await expect(sut).resolves.toBe('migrated');
    expect(clock.pauses).toEqual([500, 1_000, 2_000, 4_000, 4_000]);
  });

  it('gives up with the last error once the time is up', async () => {
    const clock = fakeClock();
    const sut = retryWithBackoff(() => Promise.reject(refused()), { timeoutMs: 3_000, retryable: isUnreachable, ...clock });
    await expect(sut).rejects.toThrow('ECONNREFUSED');
    expect(clock.now()).toBe(3_000);
  });

  it('does not retry an error from a server that answered (a failed migration, a wrong password)', async () => {
    const clock = fakeClock();
    const failed = Object.assign(new Error('password authentication failed'), { code: '28P01' });
    await expect(retryWithBackoff(() => Promise.reject(failed), { timeoutMs: 60_000, retryable: isUnreachable, ...clock })).rejects.toBe(
      failed,
    );
    expect(clock.pauses).toEqual([]);
  });
});

describe('isUnreachable', () => {
  it.each([
    ['refused', refused()],
    ['unresolvable', Object.assign(new Error('getaddrinfo ENOTFOUND postgres'), { code: 'ENOTFOUND' })],
    ['starting up', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    ['closed in the handshake', new Error('Connection terminated unexpectedly')],
    ['every address refused', new AggregateError([refused(), refused()])],
  ])('holds for a server that does not answer: %s', (_name, error) => {
    expect(isUnreachable(error)).toBe(true);
  });

  it.each([
    ['syntax error', Object.assign(new Error('syntax error'), { code: '42601' })],
    ['certificate refused', Object.assign(new Error('self-signed certificate'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })],
  ])('does not hold for a server that answered: %s', (_name, error) => {
    expect(isUnreachable(error)).toBe(false);
  });
});
