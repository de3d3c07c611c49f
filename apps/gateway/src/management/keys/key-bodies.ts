import { z } from 'zod';
import { KeyNameSchema } from '@app/contracts';

/** `POST …/api-keys`: the body may be absent; its name defaults to DEFAULT_KEY_NAME. */
export const CreateKeyBodySchema = z.object({ name: KeyNameSchema.optional() }).strict().optional();
export type CreateKeyBody = z.infer<typeof CreateKeyBodySchema>;

/** `PATCH …/api-keys/{keyId}`. */
export const RenameKeyBodySchema = z.object({ name: KeyNameSchema }).strict();
export type RenameKeyBody = z.infer<typeof RenameKeyBodySchema>;
