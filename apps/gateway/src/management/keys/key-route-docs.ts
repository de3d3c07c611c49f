import { applyDecorators, Header } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse } from '@nestjs/swagger';
import type { ErrorCode } from '@app/contracts';
import { ApiErrors, MANAGEMENT_AUTH_ERRORS } from '../../openapi/api-errors.js';
import { fromZod, ref } from '../../openapi/api-schemas.js';
import { RollKeyBodySchema, UpdateKeyBodySchema } from '../../keys/key-bodies.js';

/** How the chatbot keys' and the user-level keys' routes differ in their documentation. */
export interface KeyRouteDocs {
  /** "a chatbot key", "a user-level key". */
  noun: string;
  /** Who may call, said before the description ("Owners and admins only. "), or "". */
  who: string;
  /** The `keyId` path parameter. */
  keyId: string;
  /** Errors besides the management API's authentication errors, in the order listed. */
  errors: ErrorCode[];
}

// applyDecorators runs its decorators first to last, while stacked decorators run bottom up: each
// list below is written top down, like the stack it replaces, and reversed so the document is unchanged.

export function ApiUpdateKey(docs: KeyRouteDocs): MethodDecorator {
  return applyDecorators(
    ...[
      ApiOperation({
        summary: `Change ${docs.noun}`,
        description: `${docs.who}Any of name, expiry (\`null\` clears it), enabled (reversible; a disabled key is refused as \`401 invalid_api_key\`) IP allow-list (\`null\` clears it) and rate limit (\`null\` removes it). Every gateway and verifier applies the change within a second.`,
      }),
      ApiParam({ name: 'keyId', description: docs.keyId }),
      ApiBody({
        schema: fromZod(UpdateKeyBodySchema),
        description:
          'At least one field. `expiresAt` must lie in the future. `rateLimit`: at most `requests` (1–1,000,000) forwarded per `windowSeconds` (1–86,400), across every gateway replica.',
      }),
      ApiResponse({ status: 200, description: 'The changed key.', schema: ref('Key') }),
      ApiErrors(...MANAGEMENT_AUTH_ERRORS, ...docs.errors),
    ].reverse(),
  );
}

export function ApiRollKey(docs: KeyRouteDocs): MethodDecorator {
  return applyDecorators(
    ...[
      Header('Cache-Control', 'no-store'),
      ApiOperation({
        summary: `Roll ${docs.noun}`,
        description: `${docs.who}Makes a new key with the old one's name, expiry, allow-list and rate limit (\`rolledFrom\` names the old key). The old key keeps working for \`gracePeriodSeconds\` (never past its own expiry; 0, the default, revokes it at once), then is refused and leaves the 10-key count. Never refused for the 10-key limit. Rolling the new key ends the old key's grace at once; a key already rolled cannot be rolled again (\`409 conflict\`).`,
      }),
      ApiParam({ name: 'keyId', description: docs.keyId }),
      ApiBody({ required: false, schema: fromZod(RollKeyBodySchema), description: 'gracePeriodSeconds: 0–604800 (a week); default 0.' }),
      ApiResponse({
        status: 201,
        description: 'The new key object plus the key itself; sent with `Cache-Control: no-store`.',
        schema: ref('CreatedKey'),
      }),
      ApiErrors(...MANAGEMENT_AUTH_ERRORS, ...docs.errors),
    ].reverse(),
  );
}
