import type { KeyView, RateLimit } from '@app/contracts';
import type { ApiKeyEntity } from '../database/entities/index.js';

/**
 * The one place a stored key becomes what callers see (never its hash). Usage is the
 * usage-tracker's: `lastUsedAt` is null here and the gateway fills it in from there.
 */
export function toKeyView(key: ApiKeyEntity): KeyView {
  return {
    id: key.id,
    type: key.type,
    name: key.name,
    prefix: key.prefix,
    chatbotId: key.chatbotId,
    createdAt: key.createdAt.toISOString(),
    createdBy: key.createdBy,
    lastUsedAt: null,
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
