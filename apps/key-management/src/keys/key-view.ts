import type { KeyView } from '@app/contracts';
import type { ApiKeyEntity } from '../database/entities/index.js';

/**
 * The one place a stored key becomes what callers see (never its hash).
 * `lastUsedAt` is where usage tracking will be merged: until the usage tracker
 * supplies last-use times (a later issue), callers pass nothing and it is null.
 */
export function toKeyView(key: ApiKeyEntity, lastUsedAt: Date | null = null): KeyView {
  return {
    id: key.id,
    type: key.type,
    name: key.name,
    prefix: key.prefix,
    chatbotId: key.chatbotId,
    createdAt: key.createdAt.toISOString(),
    createdBy: key.createdBy,
    lastUsedAt: lastUsedAt ? lastUsedAt.toISOString() : null,
  };
}
