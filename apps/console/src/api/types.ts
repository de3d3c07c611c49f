// The API's shapes come from libs/contracts, type-only: nothing of the library reaches the bundle.
import type { ChatbotView, CreatedKeyView, KeyView } from '@app/contracts/management';
import { KEY_LIMIT_PER_CHATBOT } from '@app/contracts/key-limits';

export type { KeyStatus } from '@app/contracts/management';
export type { UsageInterval, UsagePoint, UsageSeries } from '@app/contracts/usage';

/** A chatbot as `GET /v1/chatbots` lists it. */
export type Chatbot = Pick<ChatbotView, 'id' | 'name'>;
export type ApiKey = KeyView;
export type CreatedKey = CreatedKeyView;

/** Where a set of keys lives: a chatbot's keys, or the account's user-level keys. */
export interface KeyScope {
  kind: 'chatbot' | 'user';
  /** The collection route, e.g. /v1/chatbots/{id}/api-keys. */
  apiPath: string;
  /** The console page that lists these keys. */
  pagePath: string;
  /** Active keys allowed at once; null when the API sets no limit. */
  limit: number | null;
}

export function chatbotScope(chatbotId: string): KeyScope {
  const id = encodeURIComponent(chatbotId);
  return {
    kind: 'chatbot',
    apiPath: `/v1/chatbots/${id}/api-keys`,
    pagePath: `/console/chatbots/${id}/settings/api-keys`,
    limit: KEY_LIMIT_PER_CHATBOT,
  };
}

export const USER_KEYS_SCOPE: KeyScope = {
  kind: 'user',
  apiPath: '/v1/api-keys',
  pagePath: '/console/account/api-keys',
  limit: null,
};
