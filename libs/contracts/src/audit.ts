import { z } from 'zod';

/**
 * Where a change came from, as the gateway saw it: the request id it answered with and
 * the real client address. Optional on the bus so that internal callers (specs, jobs)
 * may leave it out; the gateway always sends it.
 */
export const ChangeOriginSchema = z.object({ requestId: z.string().min(1).max(128), ip: z.string().min(1).max(64).nullable() }).strict();
export type ChangeOrigin = z.infer<typeof ChangeOriginSchema>;

export const AUDIT_ACTOR_TYPES = ['user', 'sso', 'admin', 'system'] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];
/** `id` is the user behind a user-level key or an SSO token; null for the admin API and the system. */
export interface AuditActor {
  type: AuditActorType;
  id: string | null;
}

export const AUDIT_ACTIONS = [
  'key.created',
  'key.renamed',
  'key.updated',
  'key.rolled',
  'key.revoked',
  'key.leaked',
  'key.imported',
  'chatbot.created',
  'chatbot.deleted',
  'account.created',
  'account.plan_changed',
  'account.renamed',
  'user.created',
  'user.assignments_changed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** An audit event as the API answers it. `details` never holds a key or its hash. */
export interface AuditEventView {
  id: string;
  at: string;
  action: AuditAction;
  actor: AuditActor;
  accountId: string;
  chatbotId: string | null;
  keyId: string | null;
  requestId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

const id = z.string().min(1).max(64);
const instant = z.string().datetime({ offset: true });

/** The filters of both audit listings; `cursor` is the opaque `nextCursor` of the previous page. */
export const AuditFilterSchema = z
  .object({
    chatbotId: id.optional(),
    keyId: id.optional(),
    action: z.enum(AUDIT_ACTIONS).optional(),
    from: instant.optional(),
    to: instant.optional(),
    limit: z.number().int().min(1).max(200),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();
export type AuditFilter = z.infer<typeof AuditFilterSchema>;

/**
 * A leak report after the gateway checked its signature: tokens arrive hashed (the
 * plaintext never leaves the gateway), with where they were found.
 */
export const LeakedKeysReportSchema = z
  .object({
    origin: ChangeOriginSchema.optional(),
    tokens: z
      .array(z.object({ keyHash: z.string().regex(/^[0-9a-f]{64}$/), url: z.string().max(2048), source: z.string().max(200) }).strict())
      .min(1)
      .max(1000),
  })
  .strict();
export type LeakedKeysReport = z.infer<typeof LeakedKeysReportSchema>;
/** One entry per reported token, in report order: true when it was a live key, now revoked. */
export interface LeakedKeysReply {
  revoked: boolean[];
}
