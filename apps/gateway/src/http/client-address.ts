import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatIpAddress, IpRanges, parseIpAddress, type IpAddress } from '@app/contracts';

const TRUSTED_PROXIES = Symbol('trustedProxies');
const CLIENT_ADDRESS = Symbol('clientAddress');

/** More hops than any real proxy chain: past them, the nearest trusted hop stands for the client. */
const MAX_HOPS = 32;
const MAPPED_IPV4 = '::ffff:';

type WithTrustedProxies = { [TRUSTED_PROXIES]?: IpRanges };
type WithClientAddress = { [CLIENT_ADDRESS]: string | null };

/**
 * Makes `clientAddress` trust the proxies in `trusted` (TRUSTED_PROXIES) for every route of
 * `fastify`. Without it (or with an empty list) the client is the TCP peer, whatever it claims.
 */
export function installClientAddress(fastify: FastifyInstance, trusted: IpRanges): void {
  fastify.decorate(TRUSTED_PROXIES, trusted);
  // Declared up front so every request object keeps one shape; filled on first use.
  fastify.decorateRequest(CLIENT_ADDRESS, null);
}

/**
 * The client the request comes from, for the invalid-key brake, IP allow-lists and logs: the TCP
 * peer, unless the peer is a trusted proxy; then the right-most X-Forwarded-For address that is not
 * itself a trusted proxy. Computed once per request, and only when asked for.
 */
export function clientAddress(request: FastifyRequest): string {
  const memo = request as unknown as WithClientAddress;
  const known = memo[CLIENT_ADDRESS];
  if (typeof known === 'string') return known;
  const address = resolveClientAddress(peerAddress(request), request.headers['x-forwarded-for'], trustedProxiesOf(request));
  memo[CLIENT_ADDRESS] = address;
  return address;
}

/**
 * What the upstream is told about the client: `X-Forwarded-For` is the chain the trusted proxy
 * sent, ending with the peer (only the peer when it is not trusted: a client's own claim is dropped),
 * and `X-Forwarded-Proto` is the trusted proxy's, else the scheme the gateway itself was reached by.
 */
export function forwardedHeaders(request: FastifyRequest): { 'x-forwarded-for': string; 'x-forwarded-proto': string } {
  const peer = peerAddress(request);
  const ownScheme = (request.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http';
  if (!isTrusted(peer, trustedProxiesOf(request))) return { 'x-forwarded-for': peer, 'x-forwarded-proto': ownScheme };
  const chain = joined(request.headers['x-forwarded-for'])?.trim();
  return {
    'x-forwarded-for': chain ? `${chain}, ${peer}` : peer,
    'x-forwarded-proto': forwardedProto(joined(request.headers['x-forwarded-proto'])) ?? ownScheme,
  };
}

/** The client behind `peer`, given the X-Forwarded-For chain it sent; pure, for the unit specs. */
export function resolveClientAddress(peer: string, forwardedFor: string | string[] | undefined, trusted: IpRanges): string {
  if (!isTrusted(peer, trusted)) return peer;
  const chain = joined(forwardedFor);
  // Walked from the right: each entry is the peer a trusted hop saw. Anything a trusted hop did
  // not write (an unreadable entry) is the client's own claim, so the nearest trusted hop stands in.
  let nearest = peer;
  if (chain === undefined) return nearest;
  let end = chain.length;
  for (let hops = 0; hops < MAX_HOPS && end > 0; hops++) {
    const comma = chain.lastIndexOf(',', end - 1);
    const entry = chain.slice(comma + 1, end).trim();
    const address = forwardedAddress(entry);
    end = comma;
    if (address === null) return nearest;
    // A plain dotted quad that parsed is already canonical (leading zeros are refused): no need to rewrite it.
    nearest = address.family === 4 && !entry.includes(':') ? entry : formatIpAddress(address);
    if (!trusted.contains(address)) return nearest;
  }
  return nearest;
}

function trustedProxiesOf(request: FastifyRequest): IpRanges {
  return (request.server as unknown as WithTrustedProxies | undefined)?.[TRUSTED_PROXIES] ?? IpRanges.NONE;
}

function isTrusted(peer: string, trusted: IpRanges): boolean {
  if (trusted.empty) return false;
  const address = parseIpAddress(peer);
  return address !== null && trusted.contains(address);
}

/** The socket's peer; a dual-stack listener reports IPv4 clients as `::ffff:a.b.c.d`, which is `a.b.c.d`. */
function peerAddress(request: FastifyRequest): string {
  // `socket` is gone once the connection is; then Fastify's `ip` (the same peer, remembered) stands in.
  const remote = request.socket?.remoteAddress ?? request.ip ?? '';
  return remote.startsWith(MAPPED_IPV4) && remote.includes('.') ? remote.slice(MAPPED_IPV4.length) : remote;
}

/** An X-Forwarded-For entry: an address, also as `[v6]`, `[v6]:port` or `v4:port` (some proxies add the port). */
function forwardedAddress(entry: string): IpAddress | null {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    const rest = entry.slice(close + 1);
    return close === -1 || (rest !== '' && !/^:\d{1,5}$/.test(rest)) ? null : parseIpAddress(entry.slice(1, close));
  }
  const colon = entry.indexOf(':');
  if (colon !== -1 && colon === entry.lastIndexOf(':') && /^:\d{1,5}$/.test(entry.slice(colon))) {
    return parseIpAddress(entry.slice(0, colon));
  }
  return parseIpAddress(entry);
}

/** The right-most value, the one the nearest proxy wrote, when it is a scheme the gateway knows. */
function forwardedProto(value: string | undefined): 'http' | 'https' | undefined {
  if (value === undefined) return undefined;
  const last = value
    .slice(value.lastIndexOf(',') + 1)
    .trim()
    .toLowerCase();
  return last === 'http' || last === 'https' ? last : undefined;
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
