const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids arrive from the bus as free strings; a value that is not a uuid names no row,
 * and must not reach a uuid column (Postgres would reject the whole query).
 */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
