import { applyDecorators } from '@nestjs/common';
import { ApiResponse, type SchemaObject } from '@nestjs/swagger';
import { ERROR_STATUS, type ErrorCode } from '@app/contracts';
import { ref } from './api-schemas.js';

/** When each code is answered on the management and admin APIs (docs/api.md, Errors). */
const WHEN: Record<ErrorCode, string> = {
  invalid_request: 'malformed JSON, a field of the wrong type or length, or an unknown field',
  missing_api_key: 'no credential in `Authorization: Bearer …`',
  invalid_api_key: 'an unknown, malformed, revoked, disabled or expired key (or, on the admin API, a wrong admin token)',
  invalid_token: 'an SSO token that is expired, wrongly signed, or matches no user',
  invalid_signature: 'a leak report whose signature is missing or does not verify against the configured public keys',
  insufficient_scope: 'a chatbot key: chatbot keys cannot use the management API',
  plan_not_eligible: "the account's plan is `free`: chatbot keys need `entry`, `standard` or `professional`",
  ip_not_allowed: 'the key has an IP allow-list and the client address is outside it',
  forbidden: "the caller's role does not allow it: only owners and admins hold or manage user-level keys",
  not_found: 'no such route (with no ADMIN_TOKEN configured, every admin route)',
  chatbot_not_found: 'no such chatbot, or one the caller may not see',
  key_not_found: 'no such active key, or one the caller may not see (also when it was revoked already)',
  user_not_found: 'no such user',
  account_not_found: 'no such account',
  conflict:
    'the resource exists already (a user with this SSO subject, a key with this hash), or rolling a key already rolled (roll its successor)',
  key_limit_reached: 'the chatbot has 10 active keys already (disabled keys and rolled keys in their grace period count)',
  key_expired: 'rolling a key that has expired: create a new key instead',
  payload_too_large: 'the body is over MANAGEMENT_BODY_LIMIT_BYTES',
  unsupported_media_type: 'a body the gateway must read that is not UTF-8 `application/json`, or that is compressed',
  rate_limited: 'this client presented too many invalid keys; wait for `Retry-After` seconds',
  internal_error: 'an unexpected failure (logged with the request id)',
  upstream_unavailable: 'the chatbot upstream refused or reset',
  auth_unavailable: 'the key could not be verified (verifier or bus down): fail closed',
  service_unavailable: 'a service behind the gateway (key-management, usage-tracker, the identity provider) did not answer',
  upstream_timeout: 'the chatbot upstream did not answer in time',
};

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } } };

/** Every credential-related refusal of a management route. */
export const MANAGEMENT_AUTH_ERRORS: ErrorCode[] = [
  'missing_api_key',
  'invalid_api_key',
  'invalid_token',
  'insufficient_scope',
  'rate_limited',
  'auth_unavailable',
  'service_unavailable',
  'internal_error',
];

/** Every admin route: the admin token, the admin API being off, key-management not answering. */
export const ADMIN_AUTH_ERRORS: ErrorCode[] = ['not_found', 'missing_api_key', 'invalid_api_key', 'service_unavailable', 'internal_error'];

/**
 * Documents error answers: one response per status, listing its codes, with the contract's
 * error body whose `code` is narrowed to those codes.
 */
export function ApiErrors(...codes: ErrorCode[]): MethodDecorator {
  return applyDecorators(...errorResponses(codes).map((response) => ApiResponse(response)));
}

/** The same error responses as plain OpenAPI response objects, by status, for a route Nest does not describe. */
export function errorResponseObjects(...codes: ErrorCode[]): Record<string, { description: string; headers?: object; content: object }> {
  return Object.fromEntries(
    errorResponses(codes).map(({ status, description, headers, schema }) => [
      String(status),
      { description, ...(headers && { headers }), content: { 'application/json': { schema } } },
    ]),
  );
}

function errorResponses(codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return [...byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, statusCodes]) => ({
      status,
      description: statusCodes.map((code) => `\`${code}\`: ${WHEN[code]}`).join('; '),
      headers: status === 429 || status === 503 ? RETRY_AFTER : undefined,
      schema: errorBodyWith(statusCodes),
    }));
}

function errorBodyWith(codes: ErrorCode[]): SchemaObject {
  return {
    allOf: [
      ref('Error'),
      { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string', enum: codes } } } } },
    ],
  };
}
