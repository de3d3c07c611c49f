import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@app/common';
import type { ConsoleConfig } from '../config.js';
import { sendError } from '../http/error-response.js';
import { readConsoleFiles, type ConsoleFile } from './console-files.js';
import { consoleSecurityHeaders } from './console-headers.js';

export const CONSOLE_PATH = '/console/';
/** dist/apps/gateway/src/console → dist/console, where `npm run build` puts the console. */
const BUILT_CONSOLE = join(dirname(fileURLToPath(import.meta.url)), '../../../../console');

/**
 * The web console: static files on the gateway's own origin, so the page calls /v1 without
 * CORS. The page needs no credential; every call it makes carries the signed-in caller's.
 */
export function mountConsole(fastify: FastifyInstance, config: ConsoleConfig, logger: Logger): void {
  const directory = config.directory ?? BUILT_CONSOLE;
  const files = readConsoleFiles(directory);
  if (!files.size) logger.warn({ directory }, 'the console is not built (npm run build): /console/ answers 404');
  const security = consoleSecurityHeaders(config.oidc?.issuer);
  // What the page needs to offer SSO; no secret here (a browser client is public and uses PKCE).
  const settings = JSON.stringify({ sso: config.oidc });

  fastify.get('/console', (_request, reply) => reply.headers(security).redirect(CONSOLE_PATH, 308));
  fastify.get('/console/config.json', (_request, reply) =>
    reply.headers(security).header('cache-control', 'no-store').type('application/json; charset=utf-8').send(settings),
  );
  fastify.get('/console/*', (request, reply) => {
    reply.headers(security);
    const path = (request.params as { '*': string })['*'];
    const file = files.get(path) ?? (looksLikeFile(path) ? undefined : files.get('index.html'));
    if (!file) {
      const message = files.size ? 'no such console file' : 'the console is not built on this gateway';
      return sendError(request, reply, 'not_found', message);
    }
    return sendFile(request, reply, file);
  });
}

/** A name with an extension, or anything under assets/, is a file: unknown ones are 404, not the page. */
function looksLikeFile(path: string): boolean {
  return path.startsWith('assets/') || /\.[A-Za-z0-9]+$/.test(path);
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: ConsoleFile): FastifyReply {
  // index.html names the current hashed assets: never cached, so a deploy is seen at the next load.
  reply
    .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-store')
    .header('etag', file.etag)
    .type(file.contentType);
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.send(file.body);
}
