import { z } from 'zod';
import { RateLimitSchema, type VerifyReply } from '@app/contracts';

const id = z.string().min(1).max(256);
const Verified = {
  keyId: id,
  type: z.enum(['chatbot', 'user']),
  accountId: id,
  chatbotId: id.nullable(),
  userId: id.nullable(),
  // A verifier older than rate limits sends none: no limit.
  rateLimit: RateLimitSchema.nullable().default(null),
};

/** The bare `auth.verify` reply (contract section 9), checked where it enters the gateway. */
const VerifyReplySchema = z.union([
  z.object({ valid: z.literal(true), allowed: z.literal(true), ...Verified }),
  z.object({
    valid: z.literal(true),
    allowed: z.literal(false),
    code: z.enum(['insufficient_scope', 'plan_not_eligible']),
    ...Verified,
  }),
  z.object({ valid: z.literal(false), code: z.enum(['invalid_api_key', 'auth_unavailable']) }),
]);

export const INVALID_REPLY: VerifyReply = { valid: false, code: 'invalid_api_key' };
export const UNAVAILABLE_REPLY: VerifyReply = { valid: false, code: 'auth_unavailable' };

/** A reply the gateway cannot read counts as "could not verify": fail closed. */
export function parseVerifyReply(raw: unknown): VerifyReply {
  const parsed = VerifyReplySchema.safeParse(raw);
  return parsed.success ? (parsed.data as VerifyReply) : UNAVAILABLE_REPLY;
}
