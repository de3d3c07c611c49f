import type { Server } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createService, type Logger } from '@app/common';
import { GatewayModule } from './app.module.js';
import type { GatewayConfig, HttpServerLimits } from './config.js';
import { requestIdFor } from './http/request-id.js';
import { DataPlane } from './data-plane/data-plane.js';
import { LeakReports } from './secret-scanning/leak-reports.js';
import { buildOpenApiDocument } from './openapi/openapi-document.js';
import { mountOpenApi } from './openapi/openapi.route.js';
import { sendError } from './http/error-response.js';
import { mountConsole } from './console/console.route.js';
import { installClientAddress } from './http/client-address.js';
import { answerClientError } from './http/client-error.js';
import { requireJsonOnManagementBodies } from './http/management-media-type.js';

/** Starts the gateway: the data plane on `/api/v1`, management on `/v1`, admin on `/admin/v1`, the console on `/console/`. */
export async function startGateway(config: GatewayConfig, logger: Logger): Promise<NestFastifyApplication> {
  return createService({
    module: GatewayModule.forRoot(config, logger),
    logger,
    port: config.port,
    shutdownGraceMs: config.shutdownGraceMs,
    fastify: {
      genReqId: requestIdFor,
      // The data plane reads its bodies itself (BODY_LIMIT_BYTES); this bounds the management and admin API.
      bodyLimit: config.managementBodyLimitBytes,
      return503OnClosing: true,
      // Dot segments and encoded separators are judged by the data plane itself, on the raw path.
      // Case-insensitive, as Express and ASP.NET route: `/API/V1/CHATBOTS/{id}` must reach the data
      // plane's scope check, not a 404 here and a chatbot on a lenient upstream behind another path.
      routerOptions: { ignoreDuplicateSlashes: false, caseSensitive: false },
      // A malformed percent-encoding (`/api/v1/%zz`) fails in Fastify's router, before any hook or
      // Nest handler: answer it in the contract's shape, with its X-Request-Id, like every error.
      frameworkErrors: (_error, request, reply) => {
        sendError(request, reply.header('x-request-id', request.id), 'invalid_request', 'the request URL is malformed');
      },
      clientErrorHandler: answerClientError,
    },
    beforeListen: async (app) => {
      limitSlowClients(app.getHttpServer(), config.http);
      const fastify = app.getHttpAdapter().getInstance();
      installClientAddress(fastify, config.trustedProxies);
      requireJsonOnManagementBodies(fastify);
      // A callback hook, not an async one: no promise per request on the hot path.
      fastify.addHook('onRequest', (request, reply, done) => {
        reply.header('x-request-id', request.id);
        done();
      });
      // Unknown routes and Fastify's own errors (body too large, malformed JSON) go through Nest's
      // handlers, which Nest installs at init, to ApiExceptionFilter: one place renders every error.
      await app.get(DataPlane).mount(fastify);
      await app.get(LeakReports).mount(fastify);
      mountOpenApi(fastify, buildOpenApiDocument(app));
      mountConsole(fastify, config.console, logger);
    },
  });
}

/**
 * Node's own limits on slow clients. They are enforced by a sweep over open connections
 * (every 30 s by default, read when the server starts listening): keep it finer than the
 * headers timeout, or a Slowloris client gets up to 30 s more than configured.
 */
function limitSlowClients(server: Server, limits: HttpServerLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(
    1_000,
    Math.ceil(limits.headersTimeoutMs / 4),
  );
}
