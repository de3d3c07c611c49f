import { z } from 'zod';
import { RateLimitSchema, type RateLimit } from './rate-limit.js';
import type { RpcResult } from './subject-map.js';

/** `auth.verify` request: carries a presented key to the verifier; never stored, never logged. */
export const VerifyRequestSchema = z.object({
  key: z.string().min(1).max(256),
  chatbotId: z.string().min(1).max(64).optional(),
  /**
   * The client address the caller serves, for keys with an IP allow-list. Without it such a key
   * is answered `ip_not_allowed` (with its `allowedIps`, so a caller that judges addresses itself can).
   */
  ip: z.string().min(1).max(64).optional(),
});
export type VerifyRequest = z.infer<typeof VerifyRequestSchema>;

export type VerifiedKey = {
  keyId: string;
  type: 'chatbot' | 'user';
  accountId: string;
  /** The chatbot the request targets (a chatbot key's own chatbot); null on account routes. */
  chatbotId: string | null;
  /** The key's holder for user-level keys; null for chatbot keys, which act for no user. */
  userId: string | null;
  /** The key's own budget, enforced by the gateway; null: none. */
  rateLimit: RateLimit | null;
};

/**
 * Extra fields of a valid reply, present only when they apply: `expiresAt`, the instant the key
 * stops working (its expiry, or the end of a roll's grace period), which no cached copy of the
 * reply may outlive; `allowedIps`, the addresses and CIDRs the key may be used from.
 */
export interface KeyLimits {
  expiresAt?: string;
  allowedIps?: string[];
}

export type DenialCode = 'insufficient_scope' | 'plan_not_eligible' | 'ip_not_allowed';

export type VerifyReply =
  | ({ valid: true; allowed: true } & VerifiedKey & KeyLimits)
  | ({ valid: true; allowed: false; code: DenialCode } & VerifiedKey & KeyLimits)
  | { valid: false; code: 'invalid_api_key' }
  /** The verifier could not decide (key-management unreachable): callers fail closed. */
  | { valid: false; code: 'auth_unavailable' };

/**
 * `auth.verify` answers its bare reply, without the internal envelope: a verifier that cannot
 * decide answers invalid (a malformed request) or auth_unavailable, and callers fail closed.
 */
export function verifyWireReply(result: RpcResult<VerifyReply>): VerifyReply {
  if (result.ok) return result.data;
  return { valid: false, code: result.error.code === 'invalid_request' ? 'invalid_api_key' : 'auth_unavailable' };
}

/** One word for how a verification ended: `allowed`, or the code it was refused with (a metrics label). */
export type VerifyOutcome = 'allowed' | DenialCode | 'invalid_api_key' | 'auth_unavailable';

export function verifyOutcomeOf(reply: VerifyReply): VerifyOutcome {
  if (!reply.valid) return reply.code;
  return reply.allowed ? 'allowed' : reply.code;
}

/** What key-management knows about an active key, as the verifier caches it (by hash). */
export const KeyRecordSchema = z.object({
  keyId: z.string(),
  type: z.enum(['chatbot', 'user']),
  accountId: z.string(),
  chatbotId: z.string().nullable(),
  userId: z.string().nullable(),
  /** Epoch ms when the key stops working (expiry or a roll's grace end); null: no end. */
  endsAt: z.number().int().nullable(),
  /** Canonical addresses and CIDRs; null: any address. */
  allowedIps: z.array(z.string()).nullable(),
  // Absent in records cached before rate limits existed: read as none.
  rateLimit: RateLimitSchema.nullable().default(null),
});
export type KeyRecord = z.infer<typeof KeyRecordSchema>;

export const LookupKeyRequestSchema = z.object({ keyHash: z.string().regex(/^[0-9a-f]{64}$/) });
export type LookupKeyRequest = z.infer<typeof LookupKeyRequestSchema>;
/** null: unknown, revoked, disabled or past its end (one answer for all). */
export type LookupKeyReply = KeyRecord | null;

export const LookupAccountRequestSchema = z.object({ accountId: z.string().min(1).max(64) });
export type LookupAccountRequest = z.infer<typeof LookupAccountRequestSchema>;
export type LookupAccountReply = { accountId: string; plan: Plan } | null;

export const LookupChatbotRequestSchema = z.object({ chatbotId: z.string().min(1).max(64) });
export type LookupChatbotRequest = z.infer<typeof LookupChatbotRequestSchema>;
/** null: unknown or deleted. */
export type LookupChatbotReply = { chatbotId: string; accountId: string } | null;

export const PLANS = ['free', 'entry', 'standard', 'professional'] as const;
export type Plan = (typeof PLANS)[number];
export const CHATBOT_KEY_PLANS: readonly Plan[] = ['entry', 'standard', 'professional'];

export const ROLES = ['owner', 'admin', 'member'] as const;
export type Role = (typeof ROLES)[number];
