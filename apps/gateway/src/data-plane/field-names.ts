import { ApiError } from '@app/common';

/**
 * Whether `candidate` names the field `name` to a case-insensitive binder (ASP.NET Core, Go's
 * encoding/json, Jackson with case-insensitive properties). Both foldings are tried: upper-casing
 * maps `ſ` to `S` and lower-casing maps the Kelvin sign to `k`, and binders differ in which they use.
 */
export function namesField(candidate: string, name: string): boolean {
  return (
    candidate.length === name.length &&
    (candidate === name || candidate.toLowerCase() === name.toLowerCase() || candidate.toUpperCase() === name.toUpperCase())
  );
}

/**
 * The values of the query parameter `name`, refusing a spelling a lenient upstream would read as
 * the same parameter: another case (`?ChatbotId=`), or a bracketed array (`?chatbotId[]=`, PHP and qs).
 */
export function queryValues(query: string, name: string): string[] {
  // Nearly every query names no such parameter: skip the parse unless it may (any case, or encoded).
  if (query.length === 0 || (!query.includes('%') && !query.toLowerCase().includes(name.toLowerCase()))) return [];
  const values: string[] = [];
  for (const [key, value] of new URLSearchParams(query)) {
    const bracket = key.indexOf('[');
    const base = bracket === -1 ? key : key.slice(0, bracket);
    if (!namesField(base, name)) continue;
    if (key !== name) throw new ApiError('invalid_request', `the query parameter "${key}" is read as "${name}" by some servers`);
    values.push(value);
  }
  return values;
}

/** On a route whose chatbot id is in the body, a query parameter of that name could be read instead. */
export function refuseFieldInQuery(query: string, name: string): void {
  if (query.length === 0) return;
  try {
    if (queryValues(query, name).length === 0) return;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
  throw new ApiError('invalid_request', `"${name}" belongs in the JSON body, not in the query string`);
}
