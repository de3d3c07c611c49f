import { beforeEach, describe, expect, it } from '@jest/globals';
import { ChangeLog, type ChangeLogOptions } from './change-log.js';

type Kind = 'key' | 'account';

describe('ChangeLog', () => {
  let now: number;
  const create = (over: Partial<ChangeLogOptions<'keyId' | 'chatbot'>> = {}) =>
    new ChangeLog<Kind, 'keyId' | 'chatbot'>({
      maxEntries: 3,
      settleMs: 2_000,
      refusalMs: { keyId: 600_000, chatbot: 120_000 },
      now: () => now,
      ...over,
    });

  beforeEach(() => {
    now = 1_000_000;
  });

  it('tells a lookup whether exactly its entry changed after it started', () => {
    const sut = create();
    const startedAt = sut.current();
    expect(sut.changedSince('key', 'h1', startedAt)).toBe(false);

    sut.changed('key', 'h1');

    expect(sut.changedSince('key', 'h1', startedAt)).toBe(true);
    expect(sut.changedSince('key', 'h2', startedAt)).toBe(false);
    expect(sut.changedSince('account', 'h1', startedAt)).toBe(false);
    expect(sut.changedSince('key', 'h1', sut.current())).toBe(false);
  });

  it('treats entries pushed out past the bound as changed for lookups started before, and no later ones', () => {
    const sut = create();
    const startedAt = sut.current();
    for (const hash of ['h1', 'h2', 'h3', 'h4', 'h5']) sut.changed('key', hash);
    const later = sut.current();

    expect(sut.sizes.changes).toBe(3);
    expect(sut.changedSince('key', 'h1', startedAt)).toBe(true);
    expect(sut.changedSince('key', 'never-seen', startedAt)).toBe(true);
    expect(sut.changedSince('key', 'never-seen', later)).toBe(false);
  });

  it('treats a number forgotten with time as a change for lookups started before it', () => {
    const sut = create({ numbersKeptMs: 10_000 });
    const startedAt = sut.current();
    sut.changed('key', 'h1');
    const after = sut.current();

    now += 10_000;

    expect(sut.changedSince('key', 'h1', startedAt)).toBe(true);
    expect(sut.changedSince('key', 'h1', after)).toBe(false);
    expect(sut.changedSince('key', 'other', startedAt)).toBe(true);
    expect(sut.sizes.changes).toBe(0);
  });

  it('keeps the later number of an entry changed again: the earlier one raises no floor', () => {
    const sut = create();
    sut.changed('key', 'h1');
    const between = sut.current();
    sut.changed('key', 'h1');

    expect(sut.changedSince('key', 'h1', between)).toBe(true);
    expect(sut.changedSince('key', 'h2', between)).toBe(false);
  });

  it('keeps an entry settling for the settle time after a change made with settle, and only then', () => {
    const sut = create();
    sut.changed('key', 'h1', { settle: true });
    sut.changed('key', 'h2');

    expect(sut.isSettling('key', 'h1')).toBe(true);
    expect(sut.isSettling('account', 'h1')).toBe(false);
    expect(sut.isSettling('key', 'h2')).toBe(false);
    now += 1_999;
    sut.changed('account', 'a1', { settle: true });
    expect(sut.isSettling('key', 'h1')).toBe(true);
    now += 1;
    expect(sut.isSettling('key', 'h1')).toBe(false);
    expect(sut.isSettling('account', 'a1')).toBe(true);
  });

  it('takes the time from the caller when given', () => {
    const sut = create();
    sut.changed('key', 'h1', { settle: true }, 5_000);
    sut.refuse('keyId', 'k1', 5_000);

    expect(sut.isSettling('key', 'h1', 6_999)).toBe(true);
    expect(sut.isSettling('key', 'h1', 7_000)).toBe(false);
    expect(sut.refuses('keyId', 'k1', 604_999)).toBe(true);
    expect(sut.refuses('keyId', 'k1', 605_000)).toBe(false);
  });

  it('remembers each kind of refusal for its own time, bounded, the oldest going first', () => {
    const sut = create();
    sut.refuse('keyId', 'k1');
    sut.refuse('chatbot', 'bot-1');

    now += 119_999;
    expect(sut.refuses('chatbot', 'bot-1')).toBe(true);
    expect(sut.refuses('keyId', 'bot-1')).toBe(false);
    now += 1;
    expect(sut.refuses('chatbot', 'bot-1')).toBe(false);
    expect(sut.refuses('keyId', 'k1')).toBe(true);

    for (const keyId of ['k2', 'k3', 'k4']) sut.refuse('keyId', keyId);
    expect(sut.refuses('keyId', 'k1')).toBe(false);
    expect(sut.refuses('keyId', 'k4')).toBe(true);
    expect(sut.sizes).toEqual({ changes: 0, settling: 0, refused: { keyId: 3, chatbot: 0 } });
  });

  it('after distrustAll, overtakes every lookup started before, none started after, and keeps what it remembers', () => {
    const sut = create();
    sut.changed('key', 'h1', { settle: true });
    sut.refuse('keyId', 'k1');
    const startedAt = sut.current();

    sut.distrustAll();

    expect(sut.changedSince('key', 'never-touched', startedAt)).toBe(true);
    expect(sut.changedSince('account', 'a1', startedAt)).toBe(true);
    expect(sut.changedSince('key', 'h1', sut.current())).toBe(false);
    expect(sut.isSettling('key', 'h1')).toBe(true);
    expect(sut.refuses('keyId', 'k1')).toBe(true);
  });
});
