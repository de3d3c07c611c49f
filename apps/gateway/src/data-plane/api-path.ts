import { ApiError } from '@app/common';

/** Where the data plane lives; a request whose normalised path leaves it is refused. */
export const API_ROOT = '/api/v1/';

export interface ApiTarget {
  /** Normalised path: scope is judged on it and it is what the upstream receives. */
  path: string;
  /** The query string exactly as sent, with its `?` (or empty). */
  query: string;
}

/** `%2e` `.`, `%2f` `/`, `%5c` `\`, `%3b` `;`, `%00`, also double- or triple-encoded (`%252e`, `%25252f`…). */
const ENCODED_SEPARATOR = /%(?:25)*(?:2e|2f|5c|3b|00)/i;
const PERCENT_ENCODED = /%([0-9A-Fa-f]{2})/g;
const UNRESERVED = /^[A-Za-z0-9\-_~]$/;
/** Anything that could make the normal form differ from the raw path (`%`, `\\`, `#`, `//`, `/.`) or is refused (`;`). */
const NEEDS_NORMALISING = /[%\\#;]|\/[/.]/;

/**
 * Normalises the RAW request target (`request.raw.url`, never a router-decoded path):
 * encoded separators, backslashes and `;` are refused outright, unreserved characters are decoded
 * (so `chat%62ots` cannot sneak past a `chatbots` route), duplicate slashes collapse and
 * `.`/`..` segments resolve. Throws `400 invalid_request`, or `404 not_found` for a
 * plain path outside `/api/v1/`.
 */
export function normaliseApiPath(rawUrl: string): ApiTarget {
  const queryAt = rawUrl.indexOf('?');
  const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = queryAt === -1 ? '' : rawUrl.slice(queryAt);
  if (!rawPath.startsWith('/')) throw invalid('the request path must be absolute');
  // The common case costs one scan: nothing encoded, no backslash or fragment, no empty, `.` or
  // `..` segment. Such a path is already in normal form (the full work below would return it as is).
  if (!NEEDS_NORMALISING.test(rawPath)) {
    if (!underApiRoot(rawPath)) throw new ApiError('not_found', 'no such route');
    return { path: rawPath, query };
  }
  if (rawPath.includes('\\') || rawPath.includes('#')) throw invalid('the request path holds a backslash or fragment');
  // Servlet containers and Spring cut `;…` (matrix parameters) from a segment before routing:
  // `/chatbots/B/..;/A` is chatbot A to them. No segment of ours carries one, so none is accepted.
  if (rawPath.includes(';')) throw invalid('the request path holds a ";" (matrix parameters are not accepted)');
  if (ENCODED_SEPARATOR.test(rawPath)) throw invalid('the request path holds an encoded dot, slash or backslash');
  try {
    // Malformed escapes and overlong UTF-8 (`%c0%ae`) are refused rather than guessed at.
    decodeURIComponent(rawPath);
  } catch {
    throw invalid('the request path holds a malformed percent-encoding');
  }
  const decoded = rawPath.replace(PERCENT_ENCODED, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : escape.toUpperCase();
  });
  const { path, moved } = resolveSegments(decoded);
  if (!underApiRoot(path)) {
    if (moved) throw invalid(`the request path leaves ${API_ROOT}`);
    throw new ApiError('not_found', 'no such route');
  }
  return { path, query };
}

/** Under `/api/v1/` in any letter case: routes match case-insensitively (see RouteTable). */
function underApiRoot(path: string): boolean {
  return path.startsWith(API_ROOT) || path.slice(0, API_ROOT.length).toLowerCase() === API_ROOT;
}

/** RFC 3986 dot-segment removal, plus collapsing of empty segments; climbing above the root is an error. */
function resolveSegments(rawPath: string): { path: string; moved: boolean } {
  const segments = rawPath.split('/');
  const out: string[] = [];
  let moved = false;
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i];
    const last = i === segments.length - 1;
    if (segment === '' && !last) {
      moved = true;
      continue;
    }
    if (segment === '.' || segment === '..') {
      moved = true;
      if (segment === '..') {
        if (out.length === 0) throw invalid('the request path climbs above the root');
        out.pop();
      }
      if (last) out.push('');
      continue;
    }
    out.push(segment);
  }
  return { path: `/${out.join('/')}`, moved };
}

function invalid(message: string): ApiError {
  return new ApiError('invalid_request', message);
}
