import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createService, type Logger } from '@app/common';
import { GatewayModule } from './app.module.js';
import type { GatewayConfig } from './config.js';
import { requestIdFor } from './http/request-id.js';
import { DataPlane } from './data-plane/data-plane.js';
import { LeakReports } from './secret-scanning/leak-reports.js';
import { buildOpenApiDocument } from './openapi/openapi-document.js';
import { mountOpenApi } from './openapi/openapi.route.js';
import { sendError } from './http/error-response.js';

/** Starts the gateway: the data plane on `/api/v1`, management on `/v1`, admin on `/admin/v1`. */
export async function startGateway(config: GatewayConfig, logger: Logger): Promise<NestFastifyApplication> {
  return createService({
    module: GatewayModule.forRoot(config, logger),
    logger,
    port: config.port,
    shutdownGraceMs: config.shutdownGraceMs,
    fastify: {
      genReqId: requestIdFor,
      bodyLimit: config.bodyLimitBytes,
      return503OnClosing: true,
      // Dot segments and encoded separators are judged by the data plane itself, on the raw path.
      routerOptions: { ignoreDuplicateSlashes: false },
      // A malformed percent-encoding (`/api/v1/%zz`) fails in Fastify's router, before any hook or
      // Nest handler: answer it in the contract's shape, with its X-Request-Id, like every error.
      frameworkErrors: (_error, request, reply) =>
        sendError(request, reply.header('x-request-id', request.id), 'invalid_request', 'the request URL is malformed'),
    },
    beforeListen: async (app) => {
      const fastify = app.getHttpAdapter().getInstance();
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
    },
  });
}
