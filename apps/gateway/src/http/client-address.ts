import type { FastifyRequest } from 'fastify';

/**
 * The client a request comes from, for IP allow-lists, the invalid-key brake and logs: the
 * TCP peer. (Trusted proxies and X-Forwarded-For are judged here once TRUSTED_PROXIES exists.)
 */
export function clientAddress(request: FastifyRequest): string {
  return request.ip;
}
