import type { z } from 'zod';
import * as auth from './auth.js';
import * as events from './events.js';
import * as mgmt from './management.js';
import * as usage from './usage.js';
import type { ErrorBody } from './error-codes.js';
import type { Subjects } from './subjects.js';

type Rpc<Schema extends z.ZodType, Reply> = { schema: Schema; request: z.infer<Schema>; reply: Reply };

/**
 * Request-reply subjects: what each one takes and answers. `NatsBus.request` and
 * `NatsBus.serve` are typed by this map, so a payload that disagrees with its
 * subject does not compile; `schema` validates it where it enters a service.
 */
export const RpcSchemas = {
  authVerify: auth.VerifyRequestSchema,
  lookupKey: auth.LookupKeyRequestSchema,
  lookupAccount: auth.LookupAccountRequestSchema,
  lookupChatbot: auth.LookupChatbotRequestSchema,
  adminCreateAccount: mgmt.AdminCreateAccountSchema,
  adminUpdateAccount: mgmt.AdminUpdateAccountSchema,
  adminCreateChatbot: mgmt.AdminCreateChatbotSchema,
  adminDeleteChatbot: mgmt.AdminDeleteChatbotSchema,
  adminCreateUser: mgmt.AdminCreateUserSchema,
  adminSetUserChatbots: mgmt.AdminSetUserChatbotsSchema,
  adminCreateUserKey: mgmt.AdminCreateUserKeySchema,
  adminImportLegacyKey: mgmt.AdminImportLegacyKeySchema,
  listChatbots: mgmt.ListChatbotsSchema,
  createKey: mgmt.CreateKeySchema,
  listKeys: mgmt.ListKeysSchema,
  getKey: mgmt.KeyRefSchema,
  updateKey: mgmt.UpdateKeySchema,
  revokeKey: mgmt.KeyRefSchema,
  usageQuery: usage.UsageQuerySchema,
  usageLastUsed: usage.LastUsedQuerySchema,
} as const;

export interface RpcMap {
  authVerify: Rpc<typeof auth.VerifyRequestSchema, auth.VerifyReply>;
  lookupKey: Rpc<typeof auth.LookupKeyRequestSchema, auth.LookupKeyReply>;
  lookupAccount: Rpc<typeof auth.LookupAccountRequestSchema, auth.LookupAccountReply>;
  lookupChatbot: Rpc<typeof auth.LookupChatbotRequestSchema, auth.LookupChatbotReply>;
  adminCreateAccount: Rpc<typeof mgmt.AdminCreateAccountSchema, mgmt.AccountView>;
  adminUpdateAccount: Rpc<typeof mgmt.AdminUpdateAccountSchema, mgmt.AccountView>;
  adminCreateChatbot: Rpc<typeof mgmt.AdminCreateChatbotSchema, mgmt.ChatbotView>;
  adminDeleteChatbot: Rpc<typeof mgmt.AdminDeleteChatbotSchema, null>;
  adminCreateUser: Rpc<typeof mgmt.AdminCreateUserSchema, mgmt.UserView>;
  adminSetUserChatbots: Rpc<typeof mgmt.AdminSetUserChatbotsSchema, mgmt.UserView>;
  adminCreateUserKey: Rpc<typeof mgmt.AdminCreateUserKeySchema, mgmt.KeyView>;
  adminImportLegacyKey: Rpc<typeof mgmt.AdminImportLegacyKeySchema, mgmt.KeyView>;
  listChatbots: Rpc<typeof mgmt.ListChatbotsSchema, mgmt.Page<{ id: string; name: string }>>;
  createKey: Rpc<typeof mgmt.CreateKeySchema, mgmt.KeyView>;
  listKeys: Rpc<typeof mgmt.ListKeysSchema, { data: mgmt.KeyView[] }>;
  getKey: Rpc<typeof mgmt.KeyRefSchema, mgmt.KeyView>;
  updateKey: Rpc<typeof mgmt.UpdateKeySchema, mgmt.KeyView>;
  revokeKey: Rpc<typeof mgmt.KeyRefSchema, null>;
  usageQuery: Rpc<typeof usage.UsageQuerySchema, usage.UsageSeries>;
  usageLastUsed: Rpc<typeof usage.LastUsedQuerySchema, usage.LastUsedReply>;
}
export type RpcSubject = keyof RpcMap & keyof typeof Subjects;

/** How an internal request-reply answers; `auth.verify` is the exception and answers its bare reply. */
export type RpcResult<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

export const EventSchemas = {
  keyUsed: events.KeyUsedEventSchema,
  keyCreated: events.KeyCreatedEventSchema,
  keyRevoked: events.KeyRevokedEventSchema,
  keyRenamed: events.KeyRenamedEventSchema,
  keyUpdated: events.KeyUpdatedEventSchema,
  planChanged: events.PlanChangedEventSchema,
  chatbotDeleted: events.ChatbotDeletedEventSchema,
  assignmentsChanged: events.AssignmentsChangedEventSchema,
} as const;

export type EventMap = { [S in keyof typeof EventSchemas]: z.infer<(typeof EventSchemas)[S]> };
export type EventSubject = keyof EventMap & keyof typeof Subjects;
