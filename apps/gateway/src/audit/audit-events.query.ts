import { z } from 'zod';
import { AUDIT_ACTIONS, UUID_PATTERN } from '@app/contracts';

const resourceId = z
  .string()
  .regex(UUID_PATTERN, 'must be an id')
  .transform((value) => value.toLowerCase());

/** `GET /v1/audit-events` and the admin listing: other query parameters are ignored, as usual for queries. */
export const AuditEventsQuerySchema = z.object({
  chatbotId: resourceId.optional(),
  keyId: resourceId.optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  from: z.string().datetime({ offset: true }).optional(),
  to: z.string().datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(200).optional(),
});
export type AuditEventsQuery = z.infer<typeof AuditEventsQuerySchema>;

export const AUDIT_QUERY_DESCRIPTIONS: Record<string, string> = {
  chatbotId: "Only events of this chatbot (its keys' too).",
  keyId: 'Only events of this key.',
  action: 'Only events of this action.',
  from: 'Only events at or after this instant, ISO-8601.',
  to: 'Only events before this instant, ISO-8601; `from` after `to` is `400 invalid_request`.',
  limit: 'Events per page, newest first.',
  cursor: 'The `nextCursor` of the previous page.',
};
