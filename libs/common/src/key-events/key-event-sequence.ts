import type { DeliveryGapReason } from '../nats-bus.js';

/** Headers every key event carries, so that a subscriber can tell when it missed one. */
export const KeyEventHeaders = {
  /** A random id per publishing process (each key-management replica numbers its own events). */
  publisher: 'Key-Event-Publisher',
  /** The event's number from that publisher, from 1; on a heartbeat, the last number it used. */
  sequence: 'Key-Event-Seq',
  /** When the publisher started (ms since the epoch): tells a new publisher from one met late. */
  started: 'Key-Event-Publisher-Started',
} as const;

/** Why a replica may have missed key events, and so must stop trusting what it cached: the bus's reasons, or a skipped number. */
export type MissedEventsReason = DeliveryGapReason | 'gap';

export interface PublisherMark {
  publisher: string;
  sequence: number;
  startedAt: number;
}

const MAX_PUBLISHERS = 1_000;

/**
 * A subscriber's view of every publisher's numbering: an event whose number skips one, or a
 * heartbeat announcing a number it has not seen, means an event never arrived.
 *
 * A publisher met for the first time is taken at its word, unless it started after this
 * subscriber was listening: then every one of its events should have arrived, from number 1.
 * (Its clock, not ours, says when it started: a skew only makes that first check looser or stricter.)
 */
export class KeyEventSequence {
  private readonly lastSeen = new Map<string, number>();
  private listeningSince: number;

  constructor(now: number) {
    this.listeningSince = now;
  }

  /** True when this mark proves an earlier event was missed. */
  observe(mark: PublisherMark, isHeartbeat: boolean): boolean {
    const last = this.lastSeen.get(mark.publisher);
    const expected = isHeartbeat ? 0 : 1;
    let gap: boolean;
    if (last === undefined) {
      gap = mark.startedAt > this.listeningSince && mark.sequence > expected;
    } else {
      gap = mark.sequence > last + expected;
    }
    this.lastSeen.delete(mark.publisher);
    this.lastSeen.set(mark.publisher, Math.max(last ?? 0, mark.sequence));
    // Publishers come and go with key-management replicas; the oldest heard of is forgotten first.
    if (this.lastSeen.size > MAX_PUBLISHERS) this.lastSeen.delete(this.lastSeen.keys().next().value as string);
    return gap;
  }

  /** After a reconnect (already treated as a gap): every publisher is met afresh. */
  restart(now: number): void {
    this.lastSeen.clear();
    this.listeningSince = now;
  }
}

/** Reads the mark from a message's headers; null when the message carries none (an older publisher). */
export function readMark(get: (name: string) => string): PublisherMark | null {
  const publisher = get(KeyEventHeaders.publisher);
  const sequence = Number(get(KeyEventHeaders.sequence));
  const startedAt = Number(get(KeyEventHeaders.started));
  if (!publisher || !Number.isSafeInteger(sequence) || sequence < 0 || !Number.isFinite(startedAt)) return null;
  return { publisher, sequence, startedAt };
}
