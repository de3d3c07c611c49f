/**
 * How long `poll` keeps probing and how often. When time runs out, `'return'` hands back the
 * last value seen (the caller asserts on it); `'throw'` fails naming `what` was awaited and
 * the last value seen.
 */
export type PollOptions = { timeoutMs: number; intervalMs: number } & ({ onTimeout: 'return' } | { onTimeout: 'throw'; what: string });

/**
 * Calls `probe` until `accept` holds for its value and resolves with that value. The deadline
 * counts from before the first probe; an error thrown by `probe` ends the polling with it.
 */
export async function poll<T>(probe: () => Promise<T>, accept: (value: T) => boolean, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) {
      if (options.onTimeout === 'return') return value;
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}; last seen ${printable(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
}

function printable(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
