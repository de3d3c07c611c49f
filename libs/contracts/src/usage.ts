import { z } from 'zod';

export const USAGE_INTERVALS = ['minute', 'hour', 'day'] as const;
export type UsageInterval = (typeof USAGE_INTERVALS)[number];

/**
 * The most points one usage answer holds. A full day at minute resolution needs up to
 * 1441 points (a `from` that is not on a minute boundary starts one partial minute), so
 * the limit leaves room for it; anything larger is `invalid_request`.
 */
export const MAX_USAGE_POINTS = 1500;

const id = z.string().min(1).max(64);
/** ISO-8601: a date-time with `Z` or an offset, or a bare date (midnight UTC). */
const IsoInstantSchema = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

/** usage-tracker: one key's usage series. `from` defaults to 24 h before `to`, `to` to now, `interval` to hour. */
export const UsageQuerySchema = z
  .object({
    keyId: id,
    from: IsoInstantSchema.optional(),
    to: IsoInstantSchema.optional(),
    interval: z.enum(USAGE_INTERVALS).optional(),
  })
  .strict();
export type UsageQuery = z.infer<typeof UsageQuerySchema>;

export interface UsagePoint {
  /** Start of the interval, ISO-8601 UTC. */
  start: string;
  /** Requests forwarded with the key (uses). */
  count: number;
  /** Requests its rate limit refused (429): not uses, not forwarded. */
  refused: number;
}
export interface UsageSeries {
  data: UsagePoint[];
  total: number;
}

/** usage-tracker: when each key was last used (for key listings). */
export const LastUsedQuerySchema = z.object({ keyIds: z.array(id).max(1000) }).strict();
export type LastUsedQuery = z.infer<typeof LastUsedQuerySchema>;
/** keyId → ISO-8601 of the latest use, or null when never used; every requested id is present. */
export type LastUsedReply = Record<string, string | null>;
