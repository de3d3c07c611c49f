import { z } from 'zod';
import { IpAllowList, MAX_ALLOWED_IPS, RateLimitSchema, type VerifyReply } from '@app/contracts';

const id = z.string().min(1).max(256);
const Verified = {
  keyId: id,
  type: z.enum(['chatbot', 'user']),
  accountId: id,
  chatbotId: id.nullable(),
  userId: id.nullable(),
  expiresAt: z.string().datetime({ offset: true }).optional(),
  allowedIps: z.array(z.string().max(100)).min(1).max(MAX_ALLOWED_IPS).optional(),
  // A verifier older than rate limits sends none: no limit.
  rateLimit: RateLimitSchema.nullable().default(null),
};

/** The bare `auth.verify` reply (docs/api.md, NATS subjects), checked where it enters the gateway. */
const VerifyReplySchema = z.union([
  z.object({ valid: z.literal(true), allowed: z.literal(true), ...Verified }),
  z.object({
    valid: z.literal(true),
    allowed: z.literal(false),
    code: z.enum(['insufficient_scope', 'plan_not_eligible', 'ip_not_allowed']),
    ...Verified,
  }),
  z.object({ valid: z.literal(false), code: z.enum(['invalid_api_key', 'auth_unavailable']) }),
]);

/**
 * A reply as the gateway keeps it: the key's end as a number and its allow-list parsed, once
 * per verify rather than once per request served from the cache.
 */
export type CheckedReply = VerifyReply & { endsAtMs?: number; allowList?: IpAllowList };

export const INVALID_REPLY: CheckedReply = { valid: false, code: 'invalid_api_key' };
export const UNAVAILABLE_REPLY: CheckedReply = { valid: false, code: 'auth_unavailable' };

/** A reply the gateway cannot read counts as "could not verify": fail closed. */
export function parseVerifyReply(raw: unknown): CheckedReply {
  const parsed = VerifyReplySchema.safeParse(raw);
  if (!parsed.success) return UNAVAILABLE_REPLY;
  const reply: CheckedReply = parsed.data;
  if (!reply.valid) return reply;
  if (reply.expiresAt !== undefined) reply.endsAtMs = Date.parse(reply.expiresAt);
  if (reply.allowedIps !== undefined) {
    try {
      reply.allowList = new IpAllowList(reply.allowedIps);
    } catch {
      return UNAVAILABLE_REPLY;
    }
  }
  return reply;
}
