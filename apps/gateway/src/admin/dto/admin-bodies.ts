import { z } from 'zod';
import {
  AdminCreateAccountSchema,
  AdminCreateChatbotSchema,
  AdminCreateUserSchema,
  AdminSetUserChatbotsSchema,
  AdminUpdateAccountSchema,
  classifyApiKey,
} from '@app/contracts';

/**
 * Admin request bodies: the bus schemas without the ids that come from the path, strict
 * (unknown fields are refused) like every body.
 */
export const CreateAccountBodySchema = AdminCreateAccountSchema;
export const UpdateAccountBodySchema = AdminUpdateAccountSchema.omit({ accountId: true }).strict();
export const CreateChatbotBodySchema = AdminCreateChatbotSchema.omit({ accountId: true }).strict();
export const CreateUserBodySchema = AdminCreateUserSchema.omit({ accountId: true }).strict();
export const SetUserChatbotsBodySchema = AdminSetUserChatbotsSchema.omit({ userId: true }).strict();

/**
 * A legacy key must keep working unchanged once imported, so it must be a shape the
 * gateway accepts as a user-level key: 20–256 printable ASCII without spaces (section 2)
 * and not something the gateway refuses unseen (a `cbk_`/`usk_` prefix with a wrong
 * checksum or length) or would take for a chatbot key.
 */
const LegacyKeySchema = z.string().refine((key) => ['legacy', 'user'].includes(classifyApiKey(key)), {
  message: 'must be 20–256 printable ASCII characters without spaces, and not a malformed or chatbot key',
});

/** Exactly one of `{"key"}` (the gateway hashes it) or `{"sha256"}` (64 hex characters). */
export const ImportLegacyKeyBodySchema = z.union([
  z.object({ key: LegacyKeySchema }).strict(),
  z.object({ sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters') }).strict(),
]);

export type UpdateAccountBody = z.infer<typeof UpdateAccountBodySchema>;
export type CreateAccountBody = z.infer<typeof CreateAccountBodySchema>;
export type CreateChatbotBody = z.infer<typeof CreateChatbotBodySchema>;
export type CreateUserBody = z.infer<typeof CreateUserBodySchema>;
export type SetUserChatbotsBody = z.infer<typeof SetUserChatbotsBodySchema>;
export type ImportLegacyKeyBody = z.infer<typeof ImportLegacyKeyBodySchema>;
