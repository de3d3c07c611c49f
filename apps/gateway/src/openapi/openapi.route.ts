import type { FastifyInstance } from 'fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { OPENAPI_PATH, serialiseOpenApiDocument } from './openapi-document.js';

/** Serves the document on the gateway's Fastify instance, without authentication. */
export function mountOpenApi(fastify: FastifyInstance, document: OpenAPIObject): void {
  const body = serialiseOpenApiDocument(document);
  fastify.get(OPENAPI_PATH, (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
}
