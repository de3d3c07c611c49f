import { InitialSchema1767225600000 } from './1767225600000-initial-schema.js';
import { AuditEvents1796133385494 } from './1796133385494-audit-events.js';
import { KeyLifecycle1796133500000 } from './1796133500000-key-lifecycle.js';
import { KeyRateLimits1796140800000 } from './1796140800000-key-rate-limits.js';

/** Every migration, oldest first. A new migration is added here as a class, never found by a glob. */
export const KEY_MANAGEMENT_MIGRATIONS = [
  InitialSchema1767225600000,
  AuditEvents1796133385494,
  KeyLifecycle1796133500000,
  KeyRateLimits1796140800000,
];
