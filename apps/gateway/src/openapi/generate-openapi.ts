import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { createLogger } from '@app/common';
import { GatewayModule } from '../app.module.js';
import { loadGatewayConfig } from '../config.js';
import { buildOpenApiDocument } from './openapi-document.js';

/**
 * The document from the gateway's module graph without running it: in preview mode Nest
 * instantiates nothing, so no NATS connection or configuration is needed (docs/openapi.json
 * is made this way by `node scripts/openapi.mjs`, and checked by a spec).
 */
export async function generateOpenApiDocument(): Promise<OpenAPIObject> {
  const logger = createLogger('openapi', 'silent');
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(loadGatewayConfig({}), logger), new FastifyAdapter(), {
    preview: true,
    logger: false,
  });
  try {
    return buildOpenApiDocument(app);
  } finally {
    await app.close();
  }
}
