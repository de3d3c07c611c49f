import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AdminModule } from '../admin/admin.module.js';
import { ManagementModule } from '../management/management.module.js';
import { LEAK_REPORTS_PATH } from '../secret-scanning/leak-reports.js';
import { MAX_REPORT_BYTES, MAX_REPORT_TOKENS } from '../secret-scanning/leak-report.js';
import { errorResponseObjects } from './api-errors.js';
import { COMPONENT_SCHEMAS, ref } from './api-schemas.js';

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
      description:
        'A user-level API key (`usk_…` or an imported legacy key) or an SSO token (a JWT). Chatbot keys get `403 insufficient_scope`.',
    })
    .addSecurity('adminToken', { type: 'http', scheme: 'bearer', description: 'The ADMIN_TOKEN the gateway is configured with.' })
    .addSecurity('githubSignature', {
      type: 'apiKey',
      in: 'header',
      name: 'Github-Public-Key-Signature',
      description:
        'ECDSA P-256/SHA-256 over the raw body, base64 DER, made with the key named by `Github-Public-Key-Identifier` (public keys from SECRET_SCANNING_KEYS_FILE or SECRET_SCANNING_KEYS_URL).',
    })
    .addTag('chatbots', 'The chatbots the caller reaches')
    .addTag('chatbot keys', 'Keys that reach exactly one chatbot')
    .addTag('user-level keys', 'Keys that reach every chatbot of the account and the account-level API')
    .addTag('admin', 'Provisioning accounts, chatbots, users and their keys, for the platform that owns accounts')
    .addTag('audit log', 'Who changed what, when and from where')
    .addTag('secret scanning', "Leaked keys reported by GitHub's secret scanning partner program")
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    include: [ManagementModule, AdminModule],
    autoTagControllers: false,
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...COMPONENT_SCHEMAS } };
  // Every management and admin body is judged as UTF-8 JSON before it is parsed (415 otherwise).
  for (const operations of Object.values(document.paths)) {
    for (const operation of [operations.post, operations.put, operations.patch]) {
      if (operation?.requestBody) Object.assign(operation.responses, errorResponseObjects('unsupported_media_type'));
    }
  }
  document.paths[LEAK_REPORTS_PATH] = LEAK_REPORTS_OPERATION;
  return document;
}

/** The committed form (docs/openapi.json): stable key order as generated, two-space indent, final newline. */
export function serialiseOpenApiDocument(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Mounted on Fastify directly (it needs the raw body bytes), so described here rather than by a controller. */
const LEAK_REPORTS_OPERATION: OpenAPIObject['paths'][string] = {
  post: {
    operationId: 'LeakReports_report',
    summary: 'Report leaked keys (GitHub secret scanning partner format)',
    description: `Every reported token that is a live key is revoked within a second and audited as \`key.leaked\`. Served only when SECRET_SCANNING_KEYS_FILE or SECRET_SCANNING_KEYS_URL is set (otherwise 404). At most ${MAX_REPORT_TOKENS} tokens and ${MAX_REPORT_BYTES} bytes per report.`,
    tags: ['secret scanning'],
    security: [{ githubSignature: [] }],
    parameters: [
      {
        name: 'Github-Public-Key-Identifier',
        in: 'header',
        required: true,
        description: 'Which public key signed the report.',
        schema: { type: 'string' },
      },
      {
        name: 'Github-Public-Key-Signature',
        in: 'header',
        required: true,
        description: 'The signature over the raw body, base64 DER.',
        schema: { type: 'string' },
      },
    ],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'array',
            minItems: 1,
            maxItems: MAX_REPORT_TOKENS,
            items: {
              type: 'object',
              required: ['token', 'type', 'url', 'source'],
              properties: {
                token: { type: 'string', description: 'The token found; hashed at the gateway, never stored or logged.' },
                type: { type: 'string' },
                url: { type: 'string', description: 'Where it was found.' },
                source: { type: 'string', description: 'What kind of place it was found in (content, commit, issue, …).' },
              },
            },
          },
        },
      },
    },
    responses: {
      '200': {
        description: 'Each token labelled, in the order reported.',
        content: { 'application/json': { schema: ref('LeakReportAnswer') } },
      },
      ...errorResponseObjects('invalid_signature', 'invalid_request', 'payload_too_large', 'service_unavailable', 'internal_error'),
    },
  },
};
