import { describe, expect, it } from '@jest/globals';
import { KeyEventSequence, readMark } from './key-event-sequence.js';

const LISTENING_SINCE = 1_000_000;
const mark = (publisher: string, sequence: number, startedAt = LISTENING_SINCE - 60_000) => ({ publisher, sequence, startedAt });

describe('KeyEventSequence', () => {
  it('sees no gap while every event of a publisher arrives in turn, heartbeats included', () => {
    const sut = new KeyEventSequence(LISTENING_SINCE);

    const gaps = [
      sut.observe(mark('km-1', 41), false),
      sut.observe(mark('km-1', 42), false),
      sut.observe(mark('km-1', 42), true),
      sut.observe(mark('km-1', 43), false),
    ];

    expect(gaps).toEqual([false, false, false, false]);
  });

  it('sees a gap when an event number is skipped', () => {
    const sut = new KeyEventSequence(LISTENING_SINCE);
    sut.observe(mark('km-1', 7), false);

    expect(sut.observe(mark('km-1', 9), false)).toBe(true);
    expect(sut.observe(mark('km-1', 10), false)).toBe(false);
  });

  it('sees a gap when a heartbeat announces an event that never arrived', () => {
    const sut = new KeyEventSequence(LISTENING_SINCE);
    sut.observe(mark('km-1', 7), false);

    expect(sut.observe(mark('km-1', 8), true)).toBe(true);
    expect(sut.observe(mark('km-1', 8), true)).toBe(false);
  });

  it('numbers each publisher on its own', () => {
    const sut = new KeyEventSequence(LISTENING_SINCE);
    sut.observe(mark('km-1', 7), false);
    sut.observe(mark('km-2', 100), false);

    expect(sut.observe(mark('km-1', 8), false)).toBe(false);
    expect(sut.observe(mark('km-2', 101), false)).toBe(false);
    expect(sut.observe(mark('km-2', 103), false)).toBe(true);
  });

  it('takes a publisher that was running before it listened at its word', () => {
    const sut = new KeyEventSequence(LISTENING_SINCE);

    expect(sut.observe(mark('km-1', 500), false)).toBe(false);
    expect(sut.observe(mark('km-2', 500), true)).toBe(false);
  });

  it('sees a gap when a publisher that started after it listened shows up past its first event', () => {
    const sut = new KeyEventSequence(LISTENING_SINCE);
    const later = LISTENING_SINCE + 5_000;

    expect(sut.observe(mark('fresh', 1, later), false)).toBe(false);
    expect(sut.observe(mark('missed-first', 2, later), false)).toBe(true);
    expect(sut.observe(mark('quiet', 0, later), true)).toBe(false);
    expect(sut.observe(mark('missed-only', 1, later), true)).toBe(true);
  });

  it('meets every publisher afresh after a restart (the reconnect itself was the alarm)', () => {
    const sut = new KeyEventSequence(LISTENING_SINCE);
    sut.observe(mark('km-1', 7), false);

    sut.restart(LISTENING_SINCE + 10_000);

    expect(sut.observe(mark('km-1', 12), false)).toBe(false);
    expect(sut.observe(mark('km-1', 14), false)).toBe(true);
  });
});

describe('readMark', () => {
  it('reads the three headers, and nothing from a message without them or with nonsense', () => {
    const headers = (values: Record<string, string>) => (name: string) => values[name] ?? '';

    expect(readMark(headers({ 'Key-Event-Publisher': 'p', 'Key-Event-Seq': '3', 'Key-Event-Publisher-Started': '17' }))).toEqual({
      publisher: 'p',
      sequence: 3,
      startedAt: 17,
    });
    expect(readMark(headers({}))).toBeNull();
    expect(readMark(headers({ 'Key-Event-Publisher': 'p', 'Key-Event-Seq': '-1', 'Key-Event-Publisher-Started': '17' }))).toBeNull();
    expect(readMark(headers({ 'Key-Event-Publisher': 'p', 'Key-Event-Seq': 'x', 'Key-Event-Publisher-Started': '17' }))).toBeNull();
  });
});
