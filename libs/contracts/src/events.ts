import { z } from 'zod';
import { PLANS } from './auth.js';

export const KeyCreatedEventSchema = z.object({ keyId: z.string(), keyHash: z.string(), accountId: z.string() });
export const KeyRevokedEventSchema = z.object({
  keyId: z.string(),
  keyHash: z.string(),
  accountId: z.string(),
  chatbotId: z.string().nullable(),
});
/** Expiry, enabled, allow-list, rate limit or a roll's grace end changed: caches drop the key and read it again. */
export const KeyUpdatedEventSchema = z.object({
  keyId: z.string(),
  keyHash: z.string(),
  accountId: z.string(),
  chatbotId: z.string().nullable(),
});
export const KeyRenamedEventSchema = z.object({ keyId: z.string(), accountId: z.string() });
export const PlanChangedEventSchema = z.object({ accountId: z.string(), plan: z.enum(PLANS) });
export const ChatbotDeletedEventSchema = z.object({ chatbotId: z.string(), accountId: z.string() });
export const AssignmentsChangedEventSchema = z.object({
  userId: z.string(),
  accountId: z.string(),
  chatbotIds: z.array(z.string()),
});

export type KeyCreatedEvent = z.infer<typeof KeyCreatedEventSchema>;
export type KeyRevokedEvent = z.infer<typeof KeyRevokedEventSchema>;
export type KeyUpdatedEvent = z.infer<typeof KeyUpdatedEventSchema>;
export type KeyRenamedEvent = z.infer<typeof KeyRenamedEventSchema>;
export type PlanChangedEvent = z.infer<typeof PlanChangedEventSchema>;
export type ChatbotDeletedEvent = z.infer<typeof ChatbotDeletedEventSchema>;
export type AssignmentsChangedEvent = z.infer<typeof AssignmentsChangedEventSchema>;

/** Carries nothing: its headers say how many events its publisher has sent (see KeyEventFeed). */
export const KeyEventsHeartbeatSchema = z.object({});
export type KeyEventsHeartbeat = z.infer<typeof KeyEventsHeartbeatSchema>;

/**
 * `key.used` (JetStream): one message per forwarded request, or `count` uses at once. Gateways
 * also report requests their key's rate limit refused as `refused` (not uses): such a message may
 * carry `count: 0`. A message without either field is one use, as every publisher may send it.
 */
export const KeyUsedEventSchema = z
  .object({
    keyId: z.string().min(1),
    accountId: z.string().min(1),
    chatbotId: z.string().nullable(),
    at: z.string().datetime({ offset: true }),
    count: z.number().int().min(0).max(1_000_000).optional(),
    refused: z.number().int().positive().max(1_000_000).optional(),
  })
  .refine((event) => event.count !== 0 || event.refused !== undefined, {
    message: 'count 0 needs refused',
    path: ['count'],
  });
export type KeyUsedEvent = z.infer<typeof KeyUsedEventSchema>;

/**
 * Bounds of one `key.used.batch` message. The gateway splits what it flushes at either bound;
 * the tracker refuses a message past them, and the stream refuses one larger than its
 * message-size limit (bytes plus room for headers).
 */
export const USAGE_BATCH_LIMITS = {
  maxEntries: 1_000,
  maxBytes: 256 * 1024,
} as const;

/**
 * `key.used.batch` (JetStream, gateways only): `{"uses": [key.used event, …]}`, each entry exactly
 * a `key.used` message body (one key, chatbot and minute, with its count). The envelope is checked
 * here; entries one by one (`KeyUsedEventSchema`), so one bad entry does not cost the others.
 */
export const KeyUsedBatchEnvelopeSchema = z.object({ uses: z.array(z.unknown()).min(1).max(USAGE_BATCH_LIMITS.maxEntries) }).strict();
export interface KeyUsedBatch {
  uses: KeyUsedEvent[];
}
