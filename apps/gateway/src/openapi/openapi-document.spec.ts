import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, beforeAll } from '@jest/globals';
import type { OpenAPIObject } from '@nestjs/swagger';
import { ERROR_STATUS } from '@app/contracts';
import { generateOpenApiDocument } from './generate-openapi.js';
import { serialiseOpenApiDocument } from './openapi-document.js';

const COMMITTED = join(process.cwd(), 'docs/openapi.json');

/** Every route of the management API (key lifecycle included) and the admin API, with its success status. */
const CONTRACT_ROUTES: [method: string, path: string, success: string][] = [
  ['get', '/v1/chatbots', '200'],
  ['post', '/v1/chatbots/{chatbotId}/api-keys', '201'],
  ['get', '/v1/chatbots/{chatbotId}/api-keys', '200'],
  ['patch', '/v1/chatbots/{chatbotId}/api-keys/{keyId}', '200'],
  ['delete', '/v1/chatbots/{chatbotId}/api-keys/{keyId}', '204'],
  ['get', '/v1/chatbots/{chatbotId}/api-keys/{keyId}/usage', '200'],
  ['post', '/v1/chatbots/{chatbotId}/api-keys/{keyId}/roll', '201'],
  ['post', '/v1/api-keys', '201'],
  ['get', '/v1/api-keys', '200'],
  ['patch', '/v1/api-keys/{keyId}', '200'],
  ['delete', '/v1/api-keys/{keyId}', '204'],
  ['get', '/v1/api-keys/{keyId}/usage', '200'],
  ['post', '/v1/api-keys/{keyId}/roll', '201'],
  ['post', '/admin/v1/accounts', '201'],
  ['patch', '/admin/v1/accounts/{accountId}', '200'],
  ['post', '/admin/v1/accounts/{accountId}/chatbots', '201'],
  ['delete', '/admin/v1/chatbots/{chatbotId}', '204'],
  ['post', '/admin/v1/accounts/{accountId}/users', '201'],
  ['put', '/admin/v1/users/{userId}/chatbots', '200'],
  ['post', '/admin/v1/users/{userId}/api-keys', '201'],
  ['post', '/admin/v1/users/{userId}/legacy-keys', '201'],
  ['get', '/v1/audit-events', '200'],
  ['get', '/admin/v1/accounts/{accountId}/audit-events', '200'],
  ['post', '/v1/secret-scanning/reports', '200'],
];

type Operation = { responses: Record<string, any>; security?: Record<string, string[]>[]; requestBody?: unknown };

function operations(document: OpenAPIObject): [string, string, Operation][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item as Record<string, Operation>).map(([method, operation]): [string, string, Operation] => [method, path, operation]),
  );
}

/** The codes an error response names in its narrowed schema. */
function codesOf(response: any): string[] {
  return response.content['application/json'].schema.allOf[1].properties.error.properties.code.enum;
}

describe('the OpenAPI document', () => {
  let document: OpenAPIObject;
  beforeAll(async () => {
    document = await generateOpenApiDocument();
  });

  it('is what docs/openapi.json holds (regenerate: npm run build && node scripts/openapi.mjs)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(serialiseOpenApiDocument(document));
  });

  it('describes exactly the routes of docs/api.md (Management API, Admin API, Leaked-key reports, Audit log), each with its success status', () => {
    const documented = operations(document)
      .map(([method, path]) => `${method} ${path}`)
      .sort();
    expect(documented).toEqual(CONTRACT_ROUTES.map(([method, path]) => `${method} ${path}`).sort());
    for (const [method, path, success] of CONTRACT_ROUTES) {
      const successes = Object.keys(document.paths[path][method as 'get']!.responses).filter((status) => status.startsWith('2'));
      expect({ route: `${method} ${path}`, successes }).toEqual({ route: `${method} ${path}`, successes: [success] });
    }
  });

  it('gives every error response the contract error body, with codes that travel with its status', () => {
    for (const [method, path, operation] of operations(document)) {
      const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
      expect(errors.length).toBeGreaterThan(0);
      for (const [status, response] of errors) {
        expect(response.content['application/json'].schema.allOf[0]).toEqual({ $ref: '#/components/schemas/Error' });
        for (const code of codesOf(response)) {
          expect(`${method} ${path} ${status} ${code}`).toBe(
            `${method} ${path} ${ERROR_STATUS[code as keyof typeof ERROR_STATUS]} ${code}`,
          );
        }
      }
    }
  });

  it('asks for credentials on every route: a user-level key or SSO token on /v1, the admin token on /admin/v1', () => {
    for (const [method, path, operation] of operations(document)) {
      const scheme = path.startsWith('/admin/')
        ? 'adminToken'
        : path.startsWith('/v1/secret-scanning/')
          ? 'githubSignature'
          : 'userKeyOrSsoToken';
      expect({ route: `${method} ${path}`, security: operation.security }).toEqual({
        route: `${method} ${path}`,
        security: [{ [scheme]: [] }],
      });
      const refusals = scheme === 'githubSignature' ? ['invalid_signature'] : ['missing_api_key', 'invalid_api_key'];
      expect(codesOf(operation.responses['401'])).toEqual(expect.arrayContaining(refusals));
    }
  });

  it('names the refusals the contract gives for the key routes', () => {
    const createChatbotKey = document.paths['/v1/chatbots/{chatbotId}/api-keys'].post!.responses as Record<string, any>;
    expect(codesOf(createChatbotKey['403'])).toEqual(expect.arrayContaining(['insufficient_scope', 'plan_not_eligible']));
    expect(codesOf(createChatbotKey['404'])).toEqual(['chatbot_not_found']);
    expect(codesOf(createChatbotKey['409'])).toEqual(['key_limit_reached']);
    const createUserKey = document.paths['/v1/api-keys'].post!.responses as Record<string, any>;
    expect(codesOf(createUserKey['403'])).toContain('forbidden');
    const rollChatbotKey = document.paths['/v1/chatbots/{chatbotId}/api-keys/{keyId}/roll'].post!.responses as Record<string, any>;
    expect(codesOf(rollChatbotKey['404'])).toEqual(['chatbot_not_found', 'key_not_found']);
    expect(codesOf(rollChatbotKey['409'])).toEqual(['key_expired', 'conflict']);
    expect(codesOf((document.paths['/admin/v1/accounts'].post!.responses as Record<string, any>)['404'])).toEqual(['not_found']);
  });

  it('describes request bodies with the schemas that validate them', () => {
    const update = (document.paths['/v1/api-keys/{keyId}'].patch!.requestBody as any).content['application/json'].schema;
    expect(update).toMatchObject({ type: 'object', additionalProperties: false });
    expect(Object.keys(update.properties).sort()).toEqual(['allowedIps', 'enabled', 'expiresAt', 'name', 'rateLimit']);
    expect(update.properties.name).toEqual({ type: 'string', minLength: 1, maxLength: 64 });
    expect(update.required).toBeUndefined();
    expect(update.properties.rateLimit).toEqual({
      anyOf: [
        {
          type: 'object',
          properties: {
            requests: { type: 'integer', minimum: 1, maximum: 1_000_000 },
            windowSeconds: { type: 'integer', minimum: 1, maximum: 86_400 },
          },
          required: ['requests', 'windowSeconds'],
          additionalProperties: false,
        },
        { type: 'null' },
      ],
    });
    const roll = (document.paths['/v1/chatbots/{chatbotId}/api-keys/{keyId}/roll'].post!.requestBody as any).content['application/json']
      .schema;
    expect(roll.properties.gracePeriodSeconds).toMatchObject({ type: 'integer', minimum: 0, maximum: 604_800 });
    expect((document.paths['/v1/api-keys'].post!.requestBody as any).required).toBe(false);
  });
});
