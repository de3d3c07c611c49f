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

export const INVALID_REPLY: CheckedReply = Object.freeze({ valid: false, code: 'invalid_api_key' });
export const UNAVAILABLE_REPLY: CheckedReply = Object.freeze({ valid: false, code: 'auth_unavailable' });

/**
 * A reply the gateway cannot read counts as "could not verify": fail closed. A valid reply is
 * rebuilt with its fields in one fixed order: cached replies then share one object shape and keep
 * their fields inside the object (no separate property store per entry); refusals are the shared
 * constants above.
 */
export function parseVerifyReply(raw: unknown): CheckedReply {
  const parsed = VerifyReplySchema.safeParse(raw);
  if (!parsed.success) return UNAVAILABLE_REPLY;
  const data = parsed.data;
  if (!data.valid) return data.code === 'invalid_api_key' ? INVALID_REPLY : UNAVAILABLE_REPLY;
  const { keyId, type, accountId, chatbotId, userId, rateLimit } = data;
  const reply: CheckedReply = data.allowed
    ? { valid: true, allowed: true, keyId, type, accountId, chatbotId, userId, rateLimit }
    : { valid: true, allowed: false, code: data.code, keyId, type, accountId, chatbotId, userId, rateLimit };
  if (data.expiresAt !== undefined) {
    reply.expiresAt = data.expiresAt;
    reply.endsAtMs = Date.parse(data.expiresAt);
  }
  if (data.allowedIps !== undefined) {
    reply.allowedIps = data.allowedIps;
    try {
      reply.allowList = new IpAllowList(data.allowedIps);
    } catch {
      return UNAVAILABLE_REPLY;
    }
  }
  return reply;
}
