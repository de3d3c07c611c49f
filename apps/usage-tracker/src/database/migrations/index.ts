import { UsageSchema1767225700000 } from './1767225700000-usage-schema.js';
import { LastUsedInMinutes1767225800000 } from './1767225800000-last-used-in-minutes.js';
import { RefusedRequests1796140900000 } from './1796140900000-refused-requests.js';
import { UsageRollup1796144900000 } from './1796144900000-usage-rollup.js';
import { KeyIdsInByteOrder1796150000000 } from './1796150000000-key-ids-in-byte-order.js';

/** Every migration, oldest first. A new migration is added here as a class, never found by a glob. */
export const USAGE_TRACKER_MIGRATIONS = [
  UsageSchema1767225700000,
  LastUsedInMinutes1767225800000,
  RefusedRequests1796140900000,
  UsageRollup1796144900000,
  KeyIdsInByteOrder1796150000000,
];
