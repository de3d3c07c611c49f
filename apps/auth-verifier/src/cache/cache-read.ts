/**
 * What a cache read found: an answer (a value, or the cached knowledge that there is none),
 * nothing, or a Redis that could not be asked (treated like nothing: key-management decides).
 */
export type CacheRead<T> = { state: 'hit'; value: T | null } | { state: 'miss' } | { state: 'unavailable' };

export const MISS = { state: 'miss' } as const;
export const UNAVAILABLE = { state: 'unavailable' } as const;

export function hit<T>(value: T | null): CacheRead<T> {
  return { state: 'hit', value };
}
