/** Every id key-management issues is a uuid (accounts, chatbots, users, keys, audit events). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids arrive from clients and from the bus as free strings; a value that is not a uuid names no
 * row, and must not reach a uuid column (Postgres would reject the whole query).
 */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
