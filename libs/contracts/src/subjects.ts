/**
 * Every NATS subject the system uses. `auth.verify` and `key.used` are public
 * (docs/api.md, NATS subjects); the rest are internal. Apply NATS_SUBJECT_PREFIX through
 * `NatsBus`, never by hand.
 */
export const Subjects = {
  authVerify: 'auth.verify',
  keyUsed: 'key.used',
  /** gateway → usage-tracker (same JetStream stream as key.used): many keys' counts in one message. */
  keyUsedBatch: 'key.used.batch',

  /** auth-verifier → key-management on a cache miss. */
  lookupKey: 'keys.lookup.key',
  lookupAccount: 'keys.lookup.account',
  lookupChatbot: 'keys.lookup.chatbot',

  /** gateway → key-management: the admin API. */
  adminCreateAccount: 'keys.admin.account.create',
  adminUpdateAccount: 'keys.admin.account.update',
  adminCreateChatbot: 'keys.admin.chatbot.create',
  adminDeleteChatbot: 'keys.admin.chatbot.delete',
  adminCreateUser: 'keys.admin.user.create',
  adminSetUserChatbots: 'keys.admin.user.set-chatbots',
  adminCreateUserKey: 'keys.admin.user.create-key',
  adminImportLegacyKey: 'keys.admin.user.import-legacy-key',
  adminListAuditEvents: 'keys.admin.account.audit-events',
  /** A leak report whose signature the gateway checked: hashes only. */
  reportLeakedKeys: 'keys.admin.leaked-keys.report',

  /** gateway → key-management: the management API, on behalf of an authenticated caller. */
  listChatbots: 'keys.manage.chatbots.list',
  createKey: 'keys.manage.key.create',
  listKeys: 'keys.manage.key.list',
  getKey: 'keys.manage.key.get',
  renameKey: 'keys.manage.key.rename',
  revokeKey: 'keys.manage.key.revoke',
  updateKey: 'keys.manage.key.update',
  rollKey: 'keys.manage.key.roll',
  listAuditEvents: 'keys.manage.audit-events.list',

  /** key-management → every gateway and verifier replica (plain pub/sub, not queued). */
  keyCreated: 'keys.events.key-created',
  keyRevoked: 'keys.events.key-revoked',
  keyRenamed: 'keys.events.key-renamed',
  /** A change to what a verify answer carries (expiry, enabled, allow-list, rate limit): cached answers for the key are dropped. */
  keyUpdated: 'keys.events.key-updated',
  planChanged: 'keys.events.plan-changed',
  chatbotDeleted: 'keys.events.chatbot-deleted',
  assignmentsChanged: 'keys.events.assignments-changed',
  /** Each key-management replica's last event number, every second: a replica that missed the last event learns it here. */
  keyEventsHeartbeat: 'keys.events.heartbeat',

  /** gateway → usage-tracker: usage series and last-used times, read from the tracker's own tables. */
  usageQuery: 'usage.query.key',
  usageLastUsed: 'usage.query.last-used',
} as const;

export type SubjectName = keyof typeof Subjects;

/** Every key event subject shares this stem: subscribers take them all on one subscription, in publish order. */
export const KEY_EVENTS_STEM = 'keys.events';

/** Queue groups: one replica of a group answers each request. */
export const QueueGroups = {
  authVerifier: 'auth-verifier',
  keyManagement: 'key-management',
  usageTracker: 'usage-tracker',
} as const;
