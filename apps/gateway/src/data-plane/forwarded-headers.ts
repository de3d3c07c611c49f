import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { VerifiedKey } from '@app/contracts';

/** Connection-level headers (RFC 9110 §7.6.1): never forwarded, either way. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/** The credential, and identity headers only the gateway may set: a client's own are dropped. */
const IDENTITY = ['authorization', 'x-api-key', 'x-account-id', 'x-chatbot-id', 'x-api-key-id', 'x-api-key-type', 'x-user-id'];

/**
 * IIS, Symfony, Zend and others route by these instead of the request line, and frameworks honour
 * a method override: the upstream would serve another path or method than the one judged here.
 */
const REROUTING = ['x-original-url', 'x-rewrite-url', 'x-http-method-override', 'x-http-method', 'x-method-override'];

/**
 * Who the client is, as the upstream reads it: the gateway writes X-Forwarded-For and -Proto itself
 * (client-address.ts); a client's own `Forwarded` or `X-Real-IP` would contradict them, unchecked.
 */
const CLIENT_CLAIMS = ['x-forwarded-for', 'x-forwarded-proto', 'forwarded', 'x-real-ip'];

/** `host` is the upstream's; `expect: 100-continue` is answered here, not relayed. */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, ...IDENTITY, ...REROUTING, ...CLIENT_CLAIMS, 'x-request-id', 'host', 'expect']);
const NOT_RETURNED = new Set(HOP_BY_HOP);

/**
 * Request headers for the upstream: end-to-end ones unchanged, identity set from the verified key,
 * and `forwarded` (X-Forwarded-For and -Proto as the gateway established them).
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  key: VerifiedKey,
  requestId: string,
  forwarded?: Record<'x-forwarded-for' | 'x-forwarded-proto', string>,
): Record<string, string | string[]> {
  const listed = connectionListed(incoming.connection);
  const headers: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value !== undefined && !NOT_FORWARDED.has(name) && !listed?.has(name) && !underscoredNotForwarded(name)) headers[name] = value;
  }
  if (forwarded) Object.assign(headers, forwarded);
  headers['x-request-id'] = requestId;
  headers['x-account-id'] = key.accountId;
  headers['x-api-key-id'] = key.keyId;
  headers['x-api-key-type'] = key.type;
  if (key.chatbotId !== null) headers['x-chatbot-id'] = key.chatbotId;
  if (key.userId !== null) headers['x-user-id'] = key.userId;
  return headers;
}

/**
 * WSGI, CGI, PHP and nginx's `underscores_in_headers` read `X_Account_Id` as `X-Account-Id`
 * (both become `HTTP_X_ACCOUNT_ID`): a client could otherwise forge the identity the gateway sets.
 */
function underscoredNotForwarded(name: string): boolean {
  return name.includes('_') && NOT_FORWARDED.has(name.replaceAll('_', '-'));
}

/** Response headers for the client: the upstream's, minus hop-by-hop; X-Request-Id is the gateway's. */
export function clientResponseHeaders(upstream: IncomingHttpHeaders, requestId: string): OutgoingHttpHeaders {
  const listed = connectionListed(upstream.connection);
  const headers: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value !== undefined && !NOT_RETURNED.has(name) && !listed?.has(name)) headers[name] = value;
  }
  headers['x-request-id'] = requestId;
  return headers;
}

/** `Connection: keep-alive` (or `close`), what nearly every message carries, without splitting anything. */
const KEEP_ALIVE_ONLY = new Set(['keep-alive']);
const CLOSE_ONLY = new Set(['close']);

function connectionListed(connection: string | string[] | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined;
  if (connection === 'keep-alive' || connection === 'Keep-Alive') return KEEP_ALIVE_ONLY;
  if (connection === 'close' || connection === 'Close') return CLOSE_ONLY;
  const tokens = (Array.isArray(connection) ? connection.join(',') : connection).split(',');
  return new Set(tokens.map((token) => token.trim().toLowerCase()).filter(Boolean));
}
