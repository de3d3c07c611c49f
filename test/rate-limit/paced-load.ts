import { httpRequest } from '@app/testing';

export interface Sent {
  /** When the request left (ms since the epoch): its fixed window is judged from this. */
  at: number;
  status: number;
  headers: Headers;
}

export interface PacedLoadOptions {
  /** Gateways, used round-robin. */
  gateways: string[];
  key: string;
  path: string;
  perSecond: number;
  /** Sends nothing at or after this time. */
  until: number;
  /**
   * Sends only while the time into the window (as a fraction of it) is within this range:
   * a request sent next to a window's edge could be judged in either window.
   */
  windowMs: number;
  within: [number, number];
}

/**
 * Requests at a steady rate, spread over the gateways, each fired without waiting for the
 * ones before (as independent clients do). Resolves with every answer once all have come in.
 */
export async function pacedLoad(options: PacedLoadOptions): Promise<Sent[]> {
  const pending: Promise<Sent>[] = [];
  const intervalMs = 1000 / options.perSecond;
  let next = Date.now();
  let index = 0;
  while (next < options.until) {
    const wait = next - Date.now();
    // A time, not a condition: the load's steady rate is what is being tested.
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const slot = next;
    next += intervalMs;
    const at = Date.now();
    // Behind schedule (a busy machine), the slots still due in this window go out at once; those of
    // a window already over are dropped: no window ever gets more than its planned share.
    if (Math.floor(slot / options.windowMs) !== Math.floor(at / options.windowMs)) continue;
    const into = (at % options.windowMs) / options.windowMs;
    if (into < options.within[0] || into >= options.within[1] || at >= options.until) continue;
    const gateway = options.gateways[index++ % options.gateways.length];
    pending.push(
      httpRequest(gateway, { path: options.path, key: options.key }).then((answer) => ({
        at,
        status: answer.status,
        headers: answer.headers,
      })),
    );
  }
  return Promise.all(pending);
}

/** Waits until the current window has at least `neededMs` left; answers when that window ends. */
export async function windowWithRoom(windowMs: number, neededMs: number): Promise<number> {
  const left = windowMs - (Date.now() % windowMs);
  // A time, not a condition: a fixed window of the clock has to end.
  if (left < neededMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
  return Math.floor(Date.now() / windowMs) * windowMs + windowMs;
}
