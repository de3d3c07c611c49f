/** What the management API answers (/v1). Fields other parts of the API add later are optional here. */
export interface Chatbot {
  id: string;
  name: string;
}

export type KeyStatus = 'active' | 'disabled' | 'expired';

export interface ApiKey {
  id: string;
  type: 'chatbot' | 'user';
  name: string;
  /** null for a legacy key imported by its hash alone. */
  prefix: string | null;
  chatbotId: string | null;
  createdAt: string;
  createdBy: string;
  lastUsedAt: string | null;
  // Key lifecycle fields: shown when the API sends them.
  status?: KeyStatus;
  enabled?: boolean;
  expiresAt?: string | null;
}

export interface CreatedKey extends ApiKey {
  /** The key itself: in this one answer only. */
  key: string;
}

export interface UsagePoint {
  start: string;
  count: number;
}

export interface UsageSeries {
  data: UsagePoint[];
  total: number;
}

export type UsageInterval = 'minute' | 'hour' | 'day';

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

export const KEY_LIMIT_PER_CHATBOT = 10;

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
