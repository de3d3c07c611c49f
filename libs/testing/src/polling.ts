/** How long `eventually` keeps probing, how often, and what it waits for (named in the failure). */
export interface EventuallyOptions {
  /** Default 5 s. A contract's own bound (e.g. "within 1 second") belongs here. */
  timeoutMs?: number;
  /** Default 25 ms. */
  intervalMs?: number;
  what?: string;
}

/**
 * How an integration test waits: on a condition, never on a clock. Calls `probe` until `accept`
 * holds for its value and resolves with that value; when `timeoutMs` (counted from before the
 * first probe) passes first, rejects naming what was awaited and the last value seen. An error
 * thrown by `probe` ends the polling with it.
 */
export async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, options: EventuallyOptions = {}): Promise<T> {
  const { timeoutMs = 5_000, intervalMs = 25, what = 'the condition' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen ${printable(value)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function printable(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
