import { z } from 'zod';
/** A key's own budget: at most `requests` forwarded per `windowSeconds`, across every gateway replica. */
export const RateLimitSchema = z
  .object({
    requests: z.number().int().min(1).max(1_000_000),
    windowSeconds: z.number().int().min(1).max(86_400),
  })
  .strict();
export type RateLimit = z.infer<typeof RateLimitSchema>;
