import { z } from 'zod';
import { KeyNameSchema, RateLimitSchema } from '@app/contracts';

/** `POST …/api-keys`: the body may be absent; its name defaults to DEFAULT_KEY_NAME. */
export const CreateKeyBodySchema = z
  .object({ name: KeyNameSchema.optional(), rateLimit: RateLimitSchema.nullable().optional() })
  .strict()
  .optional();
export type CreateKeyBody = z.infer<typeof CreateKeyBodySchema>;

/** `PATCH …/api-keys/{keyId}`: the fields present change; `rateLimit: null` removes the limit. */
export const UpdateKeyBodySchema = z
  .object({ name: KeyNameSchema.optional(), rateLimit: RateLimitSchema.nullable().optional() })
  .strict()
  .refine((body) => body.name !== undefined || body.rateLimit !== undefined, { message: 'nothing to change' });
export type UpdateKeyBody = z.infer<typeof UpdateKeyBodySchema>;
