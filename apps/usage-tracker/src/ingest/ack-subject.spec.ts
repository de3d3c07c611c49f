import { describe, expect, it } from '@jest/globals';
import { parseAckSubject } from './ack-subject.js';

describe('parseAckSubject', () => {
  it('reads the stream sequence and pending count of the short form', () => {
    const sut = parseAckSubject('$JS.ACK.KEY_USED.usage-tracker.1.48213.48100.1767225600123456789.5120');
    expect(sut).toEqual({ streamSeq: 48213, pending: 5120 });
  });

  it('reads them past a domain and account hash, with or without the trailing token', () => {
    expect(parseAckSubject('$JS.ACK._.AHASH.KEY_USED.usage-tracker.3.77.70.1767225600123456789.0.xK9q')).toEqual({
      streamSeq: 77,
      pending: 0,
    });
    expect(parseAckSubject('$JS.ACK.hub.AHASH.KEY_USED.usage-tracker.1.9007199254740.12.1767225600123456789.31')).toEqual({
      streamSeq: 9007199254740,
      pending: 31,
    });
  });

  it.each([
    ['an inbox', '_INBOX.abc.def'],
    ['another prefix', '$JS.API.CONSUMER.MSG.NEXT.KEY_USED.usage-tracker'],
    ['too few tokens', '$JS.ACK.KEY_USED.usage-tracker.1.48213.48100.5120'],
    ['a sequence that is not a number', '$JS.ACK.KEY_USED.usage-tracker.1.48x13.48100.1767225600123456789.5120'],
    ['an empty sequence', '$JS.ACK.KEY_USED.usage-tracker.1..48100.1767225600123456789.5120'],
    ['sequence zero', '$JS.ACK.KEY_USED.usage-tracker.1.0.48100.1767225600123456789.5120'],
    ['a sequence past 2^53', '$JS.ACK.KEY_USED.usage-tracker.1.9007199254740993.1.1767225600123456789.0'],
    ['a pending count that is not a number', '$JS.ACK.KEY_USED.usage-tracker.1.48213.48100.1767225600123456789.-1'],
  ])('answers undefined for %s', (_case, subject) => {
    expect(parseAckSubject(subject)).toBeUndefined();
  });
});
