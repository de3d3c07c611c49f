import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AdminModule } from '../admin/admin.module.js';
import { ManagementModule } from '../management/management.module.js';
import { COMPONENT_SCHEMAS } from './api-schemas.js';

/** Where the gateway serves the document, without authentication. */
export const OPENAPI_PATH = '/v1/openapi.json';

const DESCRIPTION = [
  'The management API (`/v1`) and the admin API (`/admin/v1`) of the chatbot API key gateway.',
  'Every answer carries `X-Request-Id` (a client-sent one of up to 128 characters `[A-Za-z0-9._-]` is kept);',
  'every error is JSON `{"error":{"code","message","requestId"}}` with a matching HTTP status.',
  'The data plane (`/api/v1/*`) forwards to the chatbot upstream and is not described here.',
].join(' ');

/** The OpenAPI 3.1 document of the management and admin routes of a created (or previewed) gateway app. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Chatbot API keys: management and admin API')
    .setDescription(DESCRIPTION)
    .setVersion('1')
    .addSecurity('userKeyOrSsoToken', {
      type: 'http',
      scheme: 'bearer',
      description: 'A user-level API key (`usk_…` or an imported legacy key) or an SSO token (a JWT). Chatbot keys get `403 insufficient_scope`.',
    })
    .addSecurity('adminToken', { type: 'http', scheme: 'bearer', description: 'The ADMIN_TOKEN the gateway is configured with.' })
    .addTag('chatbots', 'The chatbots the caller reaches')
    .addTag('chatbot keys', 'Keys that reach exactly one chatbot')
    .addTag('user-level keys', "Keys that reach every chatbot of the account and the account-level API")
    .addTag('admin', 'Provisioning accounts, chatbots, users and their keys, for the platform that owns accounts')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    include: [ManagementModule, AdminModule],
    autoTagControllers: false,
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...COMPONENT_SCHEMAS } };
  return document;
}

/** The committed form (docs/openapi.json): stable key order as generated, two-space indent, final newline. */
export function serialiseOpenApiDocument(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
