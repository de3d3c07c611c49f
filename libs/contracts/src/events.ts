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
 * A key id as the usage tables store it (key-management issues UUIDs): a longer one could never be
 * counted. The tracker also refuses one holding U+0000, which PostgreSQL text cannot hold (checked
 * there by hand: a refinement here would cost every event the schema's fast path).
 */
export const USAGE_KEY_ID_MAX_LENGTH = 64;
const usageKeyId = z.string().min(1).max(USAGE_KEY_ID_MAX_LENGTH);

/**
 * `key.used` (JetStream): one message per forwarded request, or `count` uses at once. Gateways
 * also report requests their key's rate limit refused as `refused` (not uses): such a message may
 * carry `count: 0`. A message without either field is one use, as every publisher may send it.
 */
export const KeyUsedEventSchema = z
  .object({
    keyId: usageKeyId,
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
 * One entry of a `key.used.batch` message: the counts of one key and minute. Usage is kept per key:
 * neither the key's account nor the chatbot a use targeted is stored. Two forms, both read by
 * trackers of this release:
 * - `[keyId, chatbotId, atMs, count, refused]`, what every release's trackers read. Gateways of
 *   this release write it with the chatbot `null` (about 65 bytes with a UUID key id, where earlier
 *   gateways sent the chatbot's id: about 100), so gateways and trackers may be upgraded in any order.
 * - `[keyId, atMs, count, refused]`, for a later gateway release to write once every tracker reads
 *   it (trackers of this release and later): earlier trackers would refuse it as a bad entry.
 * `at` is epoch milliseconds: the latest use, or the latest refusal when there is none. Compact on
 * purpose: with every request on a key of its own, each request is one entry.
 */
export type KeyUsedBatchEntryWithChatbot = [keyId: string, chatbotId: string | null, atMs: number, count: number, refused: number];
export type KeyUsedBatchEntry = [keyId: string, atMs: number, count: number, refused: number];

/** Bounds of an entry's fields: `atMs` from 2000-01-01 to 2100-01-01 (no other time is one a gateway recorded). */
export const USAGE_BATCH_ENTRY_BOUNDS = {
  keyIdMaxLength: USAGE_KEY_ID_MAX_LENGTH,
  chatbotIdMaxLength: 256,
  earliestAtMs: 946_684_800_000,
  latestAtMs: 4_102_444_800_000,
  maxCount: 1_000_000,
} as const;
const bounds = USAGE_BATCH_ENTRY_BOUNDS;

const entryAtMs = z.number().int().min(bounds.earliestAtMs).max(bounds.latestAtMs);
const entryCount = z.number().int().min(0).max(bounds.maxCount);
const aUseOrARefusal = { message: 'neither a use nor a refusal' };

export const KeyUsedBatchEntrySchema = z
  .tuple([usageKeyId, entryAtMs, entryCount, entryCount])
  .refine(([, , count, refused]) => count > 0 || refused > 0, aUseOrARefusal);
export const KeyUsedBatchEntryWithChatbotSchema = z
  .tuple([usageKeyId, z.string().min(1).max(bounds.chatbotIdMaxLength).nullable(), entryAtMs, entryCount, entryCount])
  .refine(([, , , count, refused]) => count > 0 || refused > 0, aUseOrARefusal);

/**
 * `key.used.batch` (JetStream, gateways only): `{"uses": [entry, …]}`. The envelope is checked here;
 * entries one by one (`KeyUsedBatchEntrySchema`), so one bad entry does not cost the others.
 */
export const KeyUsedBatchEnvelopeSchema = z.object({ uses: z.array(z.unknown()).min(1).max(USAGE_BATCH_LIMITS.maxEntries) }).strict();
export interface KeyUsedBatch {
  uses: KeyUsedBatchEntry[];
}
