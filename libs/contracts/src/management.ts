import { z } from 'zod';
import { AuditFilterSchema, ChangeOriginSchema } from './audit.js';
import { PLANS, ROLES, type Plan, type Role } from './auth.js';
import { AllowedIpsSchema } from './ip-allow-list.js';
import { RateLimitSchema, type RateLimit } from './rate-limit.js';

const id = z.string().min(1).max(64);

/** PostgreSQL text cannot hold U+0000: free text that is stored refuses it up front (400), not at the insert (503). */
function storable(text: z.ZodString): z.ZodString {
  return text.refine((value) => !value.includes('\u0000'), { message: 'must not contain the NUL character (U+0000)' });
}

/**
 * Characters a key name refuses: control (Cc), format (Cf: bidirectional overrides and isolates,
 * zero-width spaces and joiners, the BOM), lone surrogates (Cs), unassigned code points (Cn), and
 * the line and paragraph separators. They can make a name in a listing read as another one, or
 * reorder what is shown around it.
 */
const HIDDEN_OR_UNASSIGNED = /[\p{Cc}\p{Cf}\p{Cs}\p{Cn}\u2028\u2029]/u;

/** Key names are trimmed; 1–64 characters remain, none of them invisible, reordering or unassigned. */
export const KeyNameSchema = storable(z.string().trim().min(1).max(64)).refine((name) => !HIDDEN_OR_UNASSIGNED.test(name), {
  message: 'must not contain control, format (bidirectional, zero-width) or unassigned characters',
});
/** Account and chatbot names are trimmed; 1–200 characters remain. */
const NameSchema = storable(z.string().trim().min(1).max(200));
export const DEFAULT_KEY_NAME = 'Untitled key';

/**
 * Who is calling the management API, as the gateway established it: the holder of a
 * user-level key, or an SSO subject. key-management resolves the user, role and
 * assignments itself on every call, so changes apply at once.
 */
export const ActorSchema = z.union([z.object({ userId: id }).strict(), z.object({ ssoSubject: z.string().min(1).max(255) }).strict()]);
export type Actor = z.infer<typeof ActorSchema>;

export interface AccountView {
  id: string;
  name: string;
  plan: Plan;
}
export interface ChatbotView {
  id: string;
  accountId: string;
  name: string;
}
export interface UserView {
  id: string;
  accountId: string;
  email: string;
  role: Role;
  chatbotIds: string[];
}
export interface KeyView {
  id: string;
  type: 'chatbot' | 'user';
  name: string;
  /** First 12 characters of the key; null for a legacy key imported by hash alone. */
  prefix: string | null;
  chatbotId: string | null;
  createdAt: string;
  createdBy: string;
  lastUsedAt: string | null;
  /** expired: past its expiry (or a roll's grace end); disabled: switched off and reversible. */
  status: KeyStatus;
  enabled: boolean;
  /** When the key stops working: its expiry, or the end of a roll's grace period if sooner. */
  expiresAt: string | null;
  allowedIps: string[] | null;
  /** The key this one replaced by a roll. */
  rolledFrom: string | null;
  rateLimit: RateLimit | null;
}
/** A key as created: the view plus the key itself, which is in this one answer only. */
export interface CreatedKeyView extends KeyView {
  key: string;
}
export const KEY_STATUSES = ['active', 'disabled', 'expired'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

/** An ISO-8601 instant with its offset; key-management checks that it lies in the future. */
export const ExpiresAtSchema = z.string().datetime({ offset: true });
/** A roll's grace period: the old key keeps working this long (at most a week); 0 revokes it at once. */
export const MAX_GRACE_PERIOD_SECONDS = 604_800;
export const GracePeriodSchema = z.number().int().min(0).max(MAX_GRACE_PERIOD_SECONDS);

/**
 * The key itself is made at the gateway and only its hash crosses the bus:
 * no bus message holds a plaintext key.
 */
const NewKeySchema = z.object({ keyHash: z.string().regex(/^[0-9a-f]{64}$/), prefix: z.string().max(12) });
/** Every change request may say where it came from, for its audit event. */
const origin = ChangeOriginSchema.optional();

export const AdminCreateAccountSchema = z.object({ origin, name: NameSchema, plan: z.enum(PLANS) }).strict();
export const AdminUpdateAccountSchema = z
  .object({ origin, accountId: id, name: NameSchema.optional(), plan: z.enum(PLANS).optional() })
  .strict();
export const AdminCreateChatbotSchema = z.object({ origin, accountId: id, name: NameSchema }).strict();
export const AdminDeleteChatbotSchema = z.object({ origin, chatbotId: id }).strict();
export const AdminCreateUserSchema = z
  .object({
    origin,
    accountId: id,
    email: z.string().trim().email().max(320),
    role: z.enum(ROLES),
    ssoSubject: storable(z.string().min(1).max(255)).optional(),
    chatbotIds: z.array(id).max(1000).optional(),
  })
  .strict();
export const AdminSetUserChatbotsSchema = z.object({ origin, userId: id, chatbotIds: z.array(id).max(1000) }).strict();
export const AdminCreateUserKeySchema = NewKeySchema.extend({ origin, userId: id, name: KeyNameSchema }).strict();
export const AdminImportLegacyKeySchema = NewKeySchema.extend({ origin, userId: id, prefix: z.string().max(12).nullable() }).strict();

export const ListChatbotsSchema = z
  .object({ actor: ActorSchema, limit: z.number().int().min(1).max(200), cursor: z.string().max(200).optional() })
  .strict();
/** chatbotId null: the account's user-level keys. */
export const CreateKeySchema = NewKeySchema.extend({
  origin,
  actor: ActorSchema,
  chatbotId: id.nullable(),
  name: KeyNameSchema,
  expiresAt: ExpiresAtSchema.optional(),
  allowedIps: AllowedIpsSchema.optional(),
  rateLimit: RateLimitSchema.nullable().optional(),
}).strict();
export const ListKeysSchema = z.object({ actor: ActorSchema, chatbotId: id.nullable() }).strict();
export const KeyRefSchema = z.object({ origin, actor: ActorSchema, chatbotId: id.nullable(), keyId: id }).strict();
export const RenameKeySchema = KeyRefSchema.extend({ name: KeyNameSchema }).strict();
/** A PATCH: only the fields given change; null clears the expiry, the allow-list or the rate limit. */
export const UpdateKeySchema = KeyRefSchema.extend({
  name: KeyNameSchema.optional(),
  expiresAt: ExpiresAtSchema.nullable().optional(),
  enabled: z.boolean().optional(),
  allowedIps: AllowedIpsSchema.nullable().optional(),
  rateLimit: RateLimitSchema.nullable().optional(),
}).strict();
/** The new key is made at the gateway: only its hash and prefix come here. */
export const RollKeySchema = KeyRefSchema.extend({ gracePeriodSeconds: GracePeriodSchema, ...NewKeySchema.shape }).strict();

/** `GET /v1/audit-events`: what the caller may see is decided from the actor. */
export const ListAuditEventsSchema = AuditFilterSchema.extend({ actor: ActorSchema }).strict();
/** `GET /admin/v1/accounts/{accountId}/audit-events`. */
export const AdminListAuditEventsSchema = AuditFilterSchema.extend({ accountId: id }).strict();

export type AdminCreateAccount = z.infer<typeof AdminCreateAccountSchema>;
export type AdminUpdateAccount = z.infer<typeof AdminUpdateAccountSchema>;
export type AdminCreateChatbot = z.infer<typeof AdminCreateChatbotSchema>;
export type AdminDeleteChatbot = z.infer<typeof AdminDeleteChatbotSchema>;
export type AdminCreateUser = z.infer<typeof AdminCreateUserSchema>;
export type AdminSetUserChatbots = z.infer<typeof AdminSetUserChatbotsSchema>;
export type AdminCreateUserKey = z.infer<typeof AdminCreateUserKeySchema>;
export type AdminImportLegacyKey = z.infer<typeof AdminImportLegacyKeySchema>;
export type ListChatbots = z.infer<typeof ListChatbotsSchema>;
export type CreateKey = z.infer<typeof CreateKeySchema>;
export type ListKeys = z.infer<typeof ListKeysSchema>;
export type KeyRef = z.infer<typeof KeyRefSchema>;
export type RenameKey = z.infer<typeof RenameKeySchema>;
export type UpdateKey = z.infer<typeof UpdateKeySchema>;
export type RollKey = z.infer<typeof RollKeySchema>;
export type ListAuditEvents = z.infer<typeof ListAuditEventsSchema>;
export type AdminListAuditEvents = z.infer<typeof AdminListAuditEventsSchema>;

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
