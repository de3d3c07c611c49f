import { z } from 'zod';
import type { SchemaObject } from '@nestjs/swagger';
import { AUDIT_ACTIONS, AUDIT_ACTOR_TYPES, ERROR_STATUS, KEY_STATUSES, PLANS, RateLimitSchema, ROLES } from '@app/contracts';

/**
 * JSON schemas of the management and admin APIs. Request bodies and queries come from the
 * very zod schemas that validate them (`z.toJSONSchema`), so the document cannot drift from
 * the validation; answers are TypeScript interfaces in `@app/contracts`, written out here.
 */
export function fromZod(schema: z.ZodType): SchemaObject {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return json as SchemaObject;
}

export type SchemaName =
  | 'Error'
  | 'Key'
  | 'CreatedKey'
  | 'KeyList'
  | 'ChatbotPage'
  | 'UsageSeries'
  | 'Account'
  | 'Chatbot'
  | 'User'
  | 'AuditEventPage'
  | 'LeakReportAnswer';

/** A reference to one of COMPONENT_SCHEMAS. */
export const ref = (name: SchemaName): SchemaObject => ({ $ref: `#/components/schemas/${name}` }) as SchemaObject;

const isoTime = { type: 'string', format: 'date-time' } as const;
const id = { type: 'string', minLength: 1, maxLength: 64 } as const;

const KeyView: SchemaObject = {
  type: 'object',
  description: 'A key as listings show it: never the key itself nor its hash.',
  required: [
    'id',
    'type',
    'name',
    'prefix',
    'chatbotId',
    'createdAt',
    'createdBy',
    'lastUsedAt',
    'status',
    'enabled',
    'expiresAt',
    'allowedIps',
    'rolledFrom',
    'rateLimit',
  ],
  properties: {
    id,
    type: { type: 'string', enum: ['chatbot', 'user'] },
    name: { type: 'string', minLength: 1, maxLength: 64 },
    prefix: {
      type: ['string', 'null'],
      maxLength: 12,
      description: 'The first 12 characters of the key; null for a legacy key imported by its hash.',
    },
    chatbotId: { type: ['string', 'null'], description: 'The chatbot a chatbot key reaches; null for user-level keys.' },
    createdAt: isoTime,
    createdBy: { type: 'string', description: 'The id of the user the key was created by or for.' },
    lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
    status: {
      type: 'string',
      enum: [...KEY_STATUSES],
      description:
        '`expired`: past `expiresAt` (refused); `disabled`: switched off by `enabled: false` (refused, reversible); otherwise `active`.',
    },
    enabled: { type: 'boolean' },
    expiresAt: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'When the key stops working: its expiry or, for a rolled key, the end of its grace period if sooner; null: never.',
    },
    allowedIps: {
      type: ['array', 'null'],
      items: { type: 'string' },
      minItems: 1,
      maxItems: 100,
      description: 'IPv4/IPv6 addresses and CIDRs (canonical) the key may be used from; null: any address.',
    },
    rolledFrom: { type: ['string', 'null'], description: 'The key this one replaced by a roll.' },
    rateLimit: {
      oneOf: [{ type: 'null' }, fromZod(RateLimitSchema)],
      description: 'At most `requests` forwarded per `windowSeconds`, across every gateway replica; null: no limit.',
    },
  },
};

export const COMPONENT_SCHEMAS = {
  Error: {
    type: 'object',
    description: 'Every error answer of the gateway (docs/api.md, Errors).',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message', 'requestId'],
        properties: {
          code: { type: 'string', enum: Object.keys(ERROR_STATUS) },
          message: { type: 'string', description: 'Human readable; not meant to be parsed.' },
          requestId: { type: 'string', description: 'The X-Request-Id of the request.' },
        },
      },
    },
  } as SchemaObject,
  Key: KeyView,
  CreatedKey: {
    allOf: [
      ref('Key'),
      {
        type: 'object',
        required: ['key'],
        properties: { key: { type: 'string', description: 'The key itself. Shown once, in this answer only: only its hash is kept.' } },
      },
    ],
  } as SchemaObject,
  KeyList: { type: 'object', required: ['data'], properties: { data: { type: 'array', items: ref('Key') } } } as SchemaObject,
  ChatbotPage: {
    type: 'object',
    required: ['data', 'nextCursor'],
    properties: {
      data: {
        type: 'array',
        items: { type: 'object', required: ['id', 'name'], properties: { id, name: { type: 'string' } } },
      },
      nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page.' },
    },
  } as SchemaObject,
  UsageSeries: {
    type: 'object',
    required: ['data', 'total'],
    properties: {
      data: {
        type: 'array',
        items: {
          type: 'object',
          required: ['start', 'count', 'refused'],
          properties: {
            start: { ...isoTime, description: 'Start of the interval (UTC).' },
            count: { type: 'integer', minimum: 0, description: 'Requests forwarded with the key (uses).' },
            refused: { type: 'integer', minimum: 0, description: "Requests the key's rate limit refused (429): not uses." },
          },
        },
      },
      total: { type: 'integer', minimum: 0, description: 'Uses in the whole window.' },
    },
  } as SchemaObject,
  Account: {
    type: 'object',
    required: ['id', 'name', 'plan'],
    properties: { id, name: { type: 'string' }, plan: { type: 'string', enum: [...PLANS] } },
  } as SchemaObject,
  Chatbot: {
    type: 'object',
    required: ['id', 'accountId', 'name'],
    properties: { id, accountId: id, name: { type: 'string' } },
  } as SchemaObject,
  User: {
    type: 'object',
    required: ['id', 'accountId', 'email', 'role', 'chatbotIds'],
    properties: {
      id,
      accountId: id,
      email: { type: 'string', format: 'email' },
      role: { type: 'string', enum: [...ROLES] },
      chatbotIds: { type: 'array', items: id, description: 'The chatbots assigned to the user (what a member reaches).' },
    },
  } as SchemaObject,
  AuditEventPage: {
    type: 'object',
    required: ['data', 'nextCursor'],
    properties: {
      data: {
        type: 'array',
        items: {
          type: 'object',
          description:
            'One change. `details` names what changed (old and new values where there are two); it never holds a key or its hash.',
          required: ['id', 'at', 'action', 'actor', 'accountId', 'chatbotId', 'keyId', 'requestId', 'ip', 'details'],
          properties: {
            id,
            at: isoTime,
            action: { type: 'string', enum: [...AUDIT_ACTIONS] },
            actor: {
              type: 'object',
              required: ['type', 'id'],
              properties: {
                type: {
                  type: 'string',
                  enum: [...AUDIT_ACTOR_TYPES],
                  description: '`user`: a user-level key; `sso`: an SSO token; `admin`: the admin API; `system`: an automatic change.',
                },
                id: { type: ['string', 'null'], description: 'The user (for `user` and `sso`); null otherwise.' },
              },
            },
            accountId: id,
            chatbotId: { type: ['string', 'null'] },
            keyId: { type: ['string', 'null'] },
            requestId: { type: ['string', 'null'], description: 'The X-Request-Id of the request that made the change.' },
            ip: { type: ['string', 'null'], description: 'The client address of that request.' },
            details: { type: 'object', additionalProperties: true },
          },
        },
      },
      nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next (older) page; null on the last page.' },
    },
  } as SchemaObject,
  LeakReportAnswer: {
    type: 'array',
    description: 'One entry per reported token, in the order reported.',
    items: {
      type: 'object',
      required: ['token_hash', 'token_type', 'label'],
      properties: {
        token_hash: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the token, hex.' },
        token_type: { type: 'string', description: 'The `type` the report gave the token.' },
        label: { type: 'string', enum: ['true_positive', 'false_positive'], description: '`true_positive`: a live key, now revoked.' },
      },
    },
  } as SchemaObject,
} satisfies Record<SchemaName, SchemaObject>;
