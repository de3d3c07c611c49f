import type { FastifyRequest } from 'fastify';

/**
 * The client's address. Minimal version: the TCP peer. The TRUSTED_PROXIES rule (the
 * right-most X-Forwarded-For address that is not a trusted proxy) replaces this body.
 */
export function clientAddress(request: FastifyRequest): string {
  return request.ip;
}
