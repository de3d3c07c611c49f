import { QueryFailedError } from 'typeorm';

const UNIQUE_VIOLATION = '23505';

/**
 * True when a query failed on a unique index: the one named `constraint` when given (e.g. a key
 * hash stored twice). Takes TypeORM's QueryFailedError and pg's own error alike.
 */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const driverError = (error instanceof QueryFailedError ? error.driverError : error) as { code?: unknown; constraint?: unknown } | null;
  if (typeof driverError !== 'object' || driverError === null || driverError.code !== UNIQUE_VIOLATION) return false;
  return constraint === undefined || driverError.constraint === constraint;
}
