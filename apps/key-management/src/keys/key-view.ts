import type { KeyView } from '@app/contracts';
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
  };
}
