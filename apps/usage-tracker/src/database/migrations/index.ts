import { UsageSchema1767225700000 } from './1767225700000-usage-schema.js';

/** Every migration, oldest first. A new migration is added here as a class, never found by a glob. */
export const USAGE_TRACKER_MIGRATIONS = [UsageSchema1767225700000];
