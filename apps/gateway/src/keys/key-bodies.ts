import { z } from 'zod';
import { AllowedIpsSchema, ExpiresAtSchema, GracePeriodSchema, KeyNameSchema, RateLimitSchema } from '@app/contracts';

/** `POST …/api-keys`: the body may be absent; its name defaults to DEFAULT_KEY_NAME. */
export const CreateKeyBodySchema = z
  .object({
    name: KeyNameSchema.optional(),
    expiresAt: ExpiresAtSchema.optional(),
    allowedIps: AllowedIpsSchema.optional(),
    rateLimit: RateLimitSchema.nullable().optional(),
  })
  .strict()
  .optional();
export type CreateKeyBody = z.infer<typeof CreateKeyBodySchema>;

/** `PATCH …/api-keys/{keyId}`: any of the fields, at least one; null clears the expiry, the allow-list or the rate limit. */
export const UpdateKeyBodySchema = z
  .object({
    name: KeyNameSchema.optional(),
    expiresAt: ExpiresAtSchema.nullable().optional(),
    enabled: z.boolean().optional(),
    allowedIps: AllowedIpsSchema.nullable().optional(),
    rateLimit: RateLimitSchema.nullable().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'give at least one of name, expiresAt, enabled, allowedIps, rateLimit' });
export type UpdateKeyBody = z.infer<typeof UpdateKeyBodySchema>;

/** `POST …/api-keys/{keyId}/roll`: the body may be absent; no grace period by default. */
export const RollKeyBodySchema = z.object({ gracePeriodSeconds: GracePeriodSchema.optional() }).strict().optional();
export type RollKeyBody = z.infer<typeof RollKeyBodySchema>;
