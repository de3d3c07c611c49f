/** Who calls: every kind of credential that could try to reach chatbot A of account X. */
export const CALLERS = {
  owner: 'owner (user key)',
  admin: 'admin (SSO)',
  assignedMember: 'assigned member (SSO)',
  unassignedMember: 'unassigned member (SSO)',
  chatbotKey: 'chatbot key KA',
  otherChatbotKey: "another chatbot's key KB",
  otherAccountKey: "another account's user key OY",
  otherAccountSso: "another account's SSO user SY",
} as const;

export type CallerId = keyof typeof CALLERS;

export const CALLER_IDS = Object.keys(CALLERS) as CallerId[];
