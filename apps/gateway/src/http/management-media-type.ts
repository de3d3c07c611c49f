import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { requireJsonBody } from '../data-plane/json-body.js';
import { LEAK_REPORTS_PATH } from '../secret-scanning/leak-reports.js';

/** Routes whose bodies the gateway itself reads as JSON: the management and admin APIs. */
function readsJsonBody(url: string): boolean {
  const query = url.indexOf('?');
  const path = (query === -1 ? url : url.slice(0, query)).toLowerCase();
  return (path.startsWith('/v1/') || path.startsWith('/admin/v1/')) && path !== LEAK_REPORTS_PATH;
}

function carriesBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * A management or admin body that is not UTF-8 `application/json`, or that is compressed, is
 * `415 unsupported_media_type` before anything parses it, as on the data plane: the same bytes
 * must not mean one thing here and another to whatever reads them next.
 */
export function requireJsonOnManagementBodies(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    if (carriesBody(request.raw) && readsJsonBody(request.url)) {
      try {
        requireJsonBody(request.headers);
      } catch (error) {
        return done(error as Error);
      }
    }
    done(null, payload);
  });
}
