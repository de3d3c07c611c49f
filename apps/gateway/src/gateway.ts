import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createService, type Logger } from '@app/common';
import { GatewayModule } from './app.module.js';
import type { GatewayConfig } from './config.js';
import { requestIdFor } from './http/request-id.js';
import { sendError, toApiError } from './http/error-response.js';
import { DataPlane } from './data-plane/data-plane.js';

/** Starts the gateway: the data plane on `/api/v1`, management on `/v1`, admin on `/admin/v1`. */
export async function startGateway(config: GatewayConfig, logger: Logger): Promise<NestFastifyApplication> {
  return createService({
    module: GatewayModule.forRoot(config, logger),
    logger,
    port: config.port,
    fastify: {
      genReqId: requestIdFor,
      bodyLimit: config.bodyLimitBytes,
      return503OnClosing: true,
      // Dot segments and encoded separators are judged by the data plane itself, on the raw path.
      routerOptions: { ignoreDuplicateSlashes: false },
    },
    beforeListen: async (app) => {
      const fastify = app.getHttpAdapter().getInstance();
      fastify.addHook('onRequest', async (request, reply) => {
        reply.header('x-request-id', request.id);
      });
      fastify.setNotFoundHandler((request, reply) => sendError(request, reply, 'not_found', 'no such route'));
      fastify.setErrorHandler((error, request, reply) => {
        const apiError = toApiError(error);
        if (apiError.status >= 500) logger.error({ err: error, requestId: request.id }, 'request failed');
        return sendError(request, reply, apiError.code, apiError.message);
      });
      await app.get(DataPlane).mount(fastify);
    },
  });
}
