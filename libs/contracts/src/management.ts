import { z } from 'zod';
import { PLANS, ROLES, type Plan, type Role } from './auth.js';
import { RateLimitSchema, type RateLimit } from './rate-limit.js';

const id = z.string().min(1).max(64);

/** PostgreSQL text cannot hold U+0000: free text that is stored refuses it up front (400), not at the insert (503). */
function storable(text: z.ZodString): z.ZodString {
  return text.refine((value) => !value.includes('\u0000'), { message: 'must not contain the NUL character (U+0000)' });
}

/** Key names are trimmed; 1–64 characters remain. */
export const KeyNameSchema = storable(z.string().trim().min(1).max(64));
/** Account and chatbot names are trimmed; 1–200 characters remain. */
const NameSchema = storable(z.string().trim().min(1).max(200));
export const DEFAULT_KEY_NAME = 'Untitled key';

/**
 * Who is calling the management API, as the gateway established it: the holder of a
 * user-level key, or an SSO subject. key-management resolves the user, role and
 * assignments itself on every call, so changes apply at once.
 */
export const ActorSchema = z.union([
  z.object({ userId: id }).strict(),
  z.object({ ssoSubject: z.string().min(1).max(255) }).strict(),
]);
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
  rateLimit: RateLimit | null;
}

/**
 * The key itself is made at the gateway and only its hash crosses the bus:
 * no bus message holds a plaintext key.
 */
const NewKeySchema = z.object({ keyHash: z.string().regex(/^[0-9a-f]{64}$/), prefix: z.string().max(12) });

export const AdminCreateAccountSchema = z.object({ name: NameSchema, plan: z.enum(PLANS) }).strict();
export const AdminUpdateAccountSchema = z.object({ accountId: id, name: NameSchema.optional(), plan: z.enum(PLANS).optional() }).strict();
export const AdminCreateChatbotSchema = z.object({ accountId: id, name: NameSchema }).strict();
export const AdminDeleteChatbotSchema = z.object({ chatbotId: id }).strict();
export const AdminCreateUserSchema = z
  .object({
    accountId: id,
    email: z.string().trim().email().max(320),
    role: z.enum(ROLES),
    ssoSubject: storable(z.string().min(1).max(255)).optional(),
    chatbotIds: z.array(id).max(1000).optional(),
  })
  .strict();
export const AdminSetUserChatbotsSchema = z.object({ userId: id, chatbotIds: z.array(id).max(1000) }).strict();
export const AdminCreateUserKeySchema = NewKeySchema.extend({ userId: id, name: KeyNameSchema }).strict();
export const AdminImportLegacyKeySchema = NewKeySchema.extend({ userId: id, prefix: z.string().max(12).nullable() }).strict();

export const ListChatbotsSchema = z
  .object({ actor: ActorSchema, limit: z.number().int().min(1).max(200), cursor: z.string().max(200).optional() })
  .strict();
/** chatbotId null: the account's user-level keys. */
export const CreateKeySchema = NewKeySchema.extend({
  actor: ActorSchema,
  chatbotId: id.nullable(),
  name: KeyNameSchema,
  rateLimit: RateLimitSchema.nullable().optional(),
}).strict();
export const ListKeysSchema = z.object({ actor: ActorSchema, chatbotId: id.nullable() }).strict();
export const KeyRefSchema = z.object({ actor: ActorSchema, chatbotId: id.nullable(), keyId: id }).strict();
/** PATCH: only the fields present change; `rateLimit: null` removes the key's limit. */
export const UpdateKeySchema = KeyRefSchema.extend({
  name: KeyNameSchema.optional(),
  rateLimit: RateLimitSchema.nullable().optional(),
}).strict();

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
export type UpdateKey = z.infer<typeof UpdateKeySchema>;

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
