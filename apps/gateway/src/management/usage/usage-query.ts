import { z } from 'zod';
import { USAGE_INTERVALS } from '@app/contracts';

/**
 * `?from=&to=&interval=` of the usage routes. Values are checked here for shape; the
 * usage-tracker checks the window (from after to, too many points) and answers 400 itself.
 */
export const UsageQueryParamsSchema = z.object({
  from: z.string().min(1).max(64).optional(),
  to: z.string().min(1).max(64).optional(),
  interval: z.enum(USAGE_INTERVALS).optional(),
});
export type UsageQueryParams = z.infer<typeof UsageQueryParamsSchema>;
