import type { KeyStatus, KeyView, RateLimit } from '@app/contracts';
import type { ApiKeyEntity } from '../database/entities/index.js';

/**
 * When a key stops working: its expiry, or the end of a roll's grace period (a revocation
 * set in the future) if that comes first; null when neither is set.
 */
export function endOf(key: Pick<ApiKeyEntity, 'expiresAt' | 'revokedAt'>): Date | null {
  const ends = [key.expiresAt, key.revokedAt].filter((end): end is Date => end !== null);
  if (!ends.length) return null;
  return ends.reduce((earliest, end) => (end < earliest ? end : earliest));
}

/** Past its end is expired whatever else holds: disabling or enabling it changes nothing it does. */
export function statusOf(key: Pick<ApiKeyEntity, 'expiresAt' | 'revokedAt' | 'enabled'>, now: Date): KeyStatus {
  const end = endOf(key);
  if (end !== null && end <= now) return 'expired';
  return key.enabled ? 'active' : 'disabled';
}

/**
 * The one place a stored key becomes what callers see (never its hash). Usage is the
 * usage-tracker's: `lastUsedAt` is null here and the gateway fills it in from there.
 */
export function toKeyView(key: ApiKeyEntity, now = new Date()): KeyView {
  return {
    id: key.id,
    type: key.type,
    name: key.name,
    prefix: key.prefix,
    chatbotId: key.chatbotId,
    createdAt: key.createdAt.toISOString(),
    createdBy: key.createdBy,
    lastUsedAt: null,
    status: statusOf(key, now),
    enabled: key.enabled,
    expiresAt: endOf(key)?.toISOString() ?? null,
    allowedIps: key.allowedIps,
    rolledFrom: key.rolledFrom,
    rateLimit: rateLimitOf(key),
  };
}

export function rateLimitOf(key: Pick<ApiKeyEntity, 'rateLimitRequests' | 'rateLimitWindowSeconds'>): RateLimit | null {
  if (key.rateLimitRequests === null || key.rateLimitWindowSeconds === null) return null;
  return { requests: key.rateLimitRequests, windowSeconds: key.rateLimitWindowSeconds };
}

/** The columns that hold a rate limit (both null: none). */
export function rateLimitColumns(rateLimit: RateLimit | null): Pick<ApiKeyEntity, 'rateLimitRequests' | 'rateLimitWindowSeconds'> {
  return { rateLimitRequests: rateLimit?.requests ?? null, rateLimitWindowSeconds: rateLimit?.windowSeconds ?? null };
}
