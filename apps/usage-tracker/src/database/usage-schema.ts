/**
 * The usage-tracker's own Postgres schema, in the same database as key-management:
 * its tables and its migrations table live here, and it never touches another schema.
 */
export const USAGE_SCHEMA = 'usage';
