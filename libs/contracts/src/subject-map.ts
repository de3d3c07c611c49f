import type { z } from 'zod';
import * as audit from './audit.js';
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
  adminListAuditEvents: mgmt.AdminListAuditEventsSchema,
  reportLeakedKeys: audit.LeakedKeysReportSchema,
  listChatbots: mgmt.ListChatbotsSchema,
  createKey: mgmt.CreateKeySchema,
  listKeys: mgmt.ListKeysSchema,
  getKey: mgmt.KeyRefSchema,
  renameKey: mgmt.RenameKeySchema,
  revokeKey: mgmt.KeyRefSchema,
  updateKey: mgmt.UpdateKeySchema,
  rollKey: mgmt.RollKeySchema,
  listAuditEvents: mgmt.ListAuditEventsSchema,
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
  adminListAuditEvents: Rpc<typeof mgmt.AdminListAuditEventsSchema, mgmt.Page<audit.AuditEventView>>;
  reportLeakedKeys: Rpc<typeof audit.LeakedKeysReportSchema, audit.LeakedKeysReply>;
  listChatbots: Rpc<typeof mgmt.ListChatbotsSchema, mgmt.Page<{ id: string; name: string }>>;
  createKey: Rpc<typeof mgmt.CreateKeySchema, mgmt.KeyView>;
  listKeys: Rpc<typeof mgmt.ListKeysSchema, { data: mgmt.KeyView[] }>;
  getKey: Rpc<typeof mgmt.KeyRefSchema, mgmt.KeyView>;
  renameKey: Rpc<typeof mgmt.RenameKeySchema, mgmt.KeyView>;
  revokeKey: Rpc<typeof mgmt.KeyRefSchema, null>;
  updateKey: Rpc<typeof mgmt.UpdateKeySchema, mgmt.KeyView>;
  rollKey: Rpc<typeof mgmt.RollKeySchema, mgmt.KeyView>;
  listAuditEvents: Rpc<typeof mgmt.ListAuditEventsSchema, mgmt.Page<audit.AuditEventView>>;
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
  keyEventsHeartbeat: events.KeyEventsHeartbeatSchema,
} as const;

export type EventMap = { [S in keyof typeof EventSchemas]: z.infer<(typeof EventSchemas)[S]> };
export type EventSubject = keyof EventMap & keyof typeof Subjects;
/** Events key-management publishes to every gateway and verifier replica, numbered per publisher. */
export type KeyEventSubject = Exclude<EventSubject, 'keyUsed' | 'keyEventsHeartbeat'>;
