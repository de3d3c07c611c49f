import type { ErrorCode } from '@app/contracts';
import type { CallerId } from './callers.js';
import type { RouteId } from './routes.js';

/**
 * One cell: the status, then either the error code (refusals) or, for a listing, whether the
 * watched item is `shown` or `hidden` (see each route's `shows`).
 */
export type Cell = `${200 | 201 | 204}` | `200 ${'shown' | 'hidden'}` | `${401 | 403 | 404} ${ErrorCode}`;

const SCOPE = '403 insufficient_scope';
const NO_CHATBOT = '404 chatbot_not_found';
const NO_KEY = '404 key_not_found';
const FORBIDDEN = '403 forbidden';
const NOT_A_KEY = '401 invalid_api_key';

/**
 * The isolation contract, cell by cell (CONTRACT.md sections 3, 4, 5, 8):
 * - management: owners and admins reach every chatbot of their account, members only their
 *   assigned ones (others 404 chatbot_not_found); user-level keys are for owners and admins
 *   (members 403 forbidden); chatbot keys get 403 insufficient_scope; another tenant's chatbot
 *   or key is 404 (existence is never revealed);
 * - data plane: a chatbot outside the key's reach is 403 insufficient_scope, account routes need
 *   a user-level key; SSO tokens are not API keys there (401 invalid_api_key).
 */
export const EXPECTED: Record<RouteId, Record<CallerId, Cell>> = {
  'GET /v1/chatbots': {
    owner: '200 shown',
    admin: '200 shown',
    assignedMember: '200 shown',
    unassignedMember: '200 hidden',
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: '200 hidden',
    otherAccountSso: '200 hidden',
  },
  'POST /v1/chatbots/A/api-keys': {
    owner: '201',
    admin: '201',
    assignedMember: '201',
    unassignedMember: NO_CHATBOT,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: NO_CHATBOT,
    otherAccountSso: NO_CHATBOT,
  },
  'GET /v1/chatbots/A/api-keys': {
    owner: '200 shown',
    admin: '200 shown',
    assignedMember: '200 shown',
    unassignedMember: NO_CHATBOT,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: NO_CHATBOT,
    otherAccountSso: NO_CHATBOT,
  },
  'PATCH /v1/chatbots/A/api-keys/{key}': {
    owner: '200',
    admin: '200',
    assignedMember: '200',
    unassignedMember: NO_CHATBOT,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: NO_CHATBOT,
    otherAccountSso: NO_CHATBOT,
  },
  'DELETE /v1/chatbots/A/api-keys/{key}': {
    owner: '204',
    admin: '204',
    assignedMember: '204',
    unassignedMember: NO_CHATBOT,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: NO_CHATBOT,
    otherAccountSso: NO_CHATBOT,
  },
  'PATCH /v1/chatbots/A/api-keys/{key of B}': {
    owner: NO_KEY,
    admin: NO_KEY,
    assignedMember: NO_KEY,
    unassignedMember: NO_CHATBOT,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: NO_CHATBOT,
    otherAccountSso: NO_CHATBOT,
  },
  'DELETE /v1/chatbots/A/api-keys/{key of B}': {
    owner: NO_KEY,
    admin: NO_KEY,
    assignedMember: NO_KEY,
    unassignedMember: NO_CHATBOT,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: NO_CHATBOT,
    otherAccountSso: NO_CHATBOT,
  },
  'GET /v1/chatbots/A/api-keys/{KA}/usage': {
    owner: '200',
    admin: '200',
    assignedMember: '200',
    unassignedMember: NO_CHATBOT,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: NO_CHATBOT,
    otherAccountSso: NO_CHATBOT,
  },
  'POST /v1/api-keys': {
    owner: '201',
    admin: '201',
    assignedMember: FORBIDDEN,
    unassignedMember: FORBIDDEN,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: '201', // a user-level key of account Y, reaching Y only (checked on success)
    otherAccountSso: '201',
  },
  'GET /v1/api-keys': {
    owner: '200 shown',
    admin: '200 shown',
    assignedMember: FORBIDDEN,
    unassignedMember: FORBIDDEN,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: '200 hidden',
    otherAccountSso: '200 hidden',
  },
  "PATCH /v1/api-keys/{X's user key}": {
    owner: '200',
    admin: '200',
    assignedMember: FORBIDDEN,
    unassignedMember: FORBIDDEN,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: NO_KEY,
    otherAccountSso: NO_KEY,
  },
  "DELETE /v1/api-keys/{X's user key}": {
    owner: '204',
    admin: '204',
    assignedMember: FORBIDDEN,
    unassignedMember: FORBIDDEN,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: NO_KEY,
    otherAccountSso: NO_KEY,
  },
  'DELETE /v1/api-keys/{key of A}': {
    owner: NO_KEY,
    admin: NO_KEY,
    assignedMember: FORBIDDEN,
    unassignedMember: FORBIDDEN,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: NO_KEY,
    otherAccountSso: NO_KEY,
  },
  "GET /v1/api-keys/{X's user key}/usage": {
    owner: '200',
    admin: '200',
    assignedMember: FORBIDDEN,
    unassignedMember: FORBIDDEN,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: NO_KEY,
    otherAccountSso: NO_KEY,
  },
  'GET /api/v1/chatbots/A/anything': {
    owner: '200',
    admin: NOT_A_KEY,
    assignedMember: NOT_A_KEY,
    unassignedMember: NOT_A_KEY,
    chatbotKey: '200',
    otherChatbotKey: SCOPE,
    otherAccountKey: SCOPE,
    otherAccountSso: NOT_A_KEY,
  },
  'POST /api/v1/chat {chatbotId:A}': {
    owner: '200',
    admin: NOT_A_KEY,
    assignedMember: NOT_A_KEY,
    unassignedMember: NOT_A_KEY,
    chatbotKey: '200',
    otherChatbotKey: SCOPE,
    otherAccountKey: SCOPE,
    otherAccountSso: NOT_A_KEY,
  },
  'GET /api/v1/account/profile': {
    owner: '200',
    admin: NOT_A_KEY,
    assignedMember: NOT_A_KEY,
    unassignedMember: NOT_A_KEY,
    chatbotKey: SCOPE,
    otherChatbotKey: SCOPE,
    otherAccountKey: '200', // its own account's route: the forwarded X-Account-Id is Y's
    otherAccountSso: NOT_A_KEY,
  },
};

export interface ParsedCell {
  status: number;
  code: ErrorCode | undefined;
  shown: boolean | undefined;
}

export function parseCell(cell: Cell): ParsedCell {
  const [status, detail] = cell.split(' ');
  return {
    status: Number(status),
    code: detail === undefined || detail === 'shown' || detail === 'hidden' ? undefined : (detail as ErrorCode),
    shown: detail === 'shown' ? true : detail === 'hidden' ? false : undefined,
  };
}
