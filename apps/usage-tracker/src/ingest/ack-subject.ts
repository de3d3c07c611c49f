/**
 * What the tracker reads from a JetStream message's ack subject (its reply subject):
 *
 * - `$JS.ACK.<stream>.<consumer>.<deliveries>.<streamSeq>.<deliverySeq>.<nanos>.<pending>`
 * - `$JS.ACK.<domain>.<accountHash>.<stream>.<consumer>.<deliveries>.<streamSeq>.<deliverySeq>.<nanos>.<pending>[.<token>]`
 *
 * nats.js (`JsMsg.seq`) splits the subject and builds its whole delivery info for every
 * message; at tens of thousands of messages a second that was about a tenth of the
 * tracker's time. This reads the two numbers in one pass without slicing the subject.
 */
export interface AckSubjectInfo {
  streamSeq: number;
  /** Messages left for the consumer after this one, as the server saw it on delivery. */
  pending: number;
}

const DOT = 46;
const ZERO = 48;
const NINE = 57;
const PREFIX = '$JS.ACK.';

/** The stream sequence and pending count of an ack subject, or undefined if it is not one. */
export function parseAckSubject(subject: string): AckSubjectInfo | undefined {
  if (!subject.startsWith(PREFIX)) return undefined;
  // Token boundaries: dots[i] is the index of the dot that ends token i (token 0 is `$JS`).
  const dots: number[] = [];
  for (let i = 0; i < subject.length; i++) if (subject.charCodeAt(i) === DOT) dots.push(i);
  const tokens = dots.length + 1;
  // Without domain and hash the stream sequence is token 5; with them, token 7.
  const seqToken = tokens === 9 ? 5 : tokens === 11 || tokens === 12 ? 7 : -1;
  if (seqToken < 0) return undefined;
  const streamSeq = readNumber(subject, dots[seqToken - 1] + 1, dots[seqToken]);
  const pendingToken = seqToken + 3;
  const pending = readNumber(subject, dots[pendingToken - 1] + 1, pendingToken < dots.length ? dots[pendingToken] : subject.length);
  if (streamSeq === undefined || streamSeq < 1 || pending === undefined) return undefined;
  return { streamSeq, pending };
}

/** The decimal number in `subject[start, end)`, or undefined if that is not all digits. */
function readNumber(subject: string, start: number, end: number): number | undefined {
  if (end <= start || end - start > 15) return undefined;
  let value = 0;
  for (let i = start; i < end; i++) {
    const code = subject.charCodeAt(i);
    if (code < ZERO || code > NINE) return undefined;
    value = value * 10 + (code - ZERO);
  }
  return value;
}
