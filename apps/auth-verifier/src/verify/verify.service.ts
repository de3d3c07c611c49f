import {
  IpAllowList,
  classifyApiKey,
  hashApiKey,
  type KeyRecord,
  type Plan,
  type VerifiedKey,
  type VerifyReply,
  type VerifyRequest,
} from '@app/contracts';
import type { AuthCacheRepository, ReadAlong, VerifyEntries } from '../cache/auth-cache.repository.js';
import { MISS, UNAVAILABLE, type CacheRead } from '../cache/cache-read.js';
import type { KeyManagementClient } from '../key-management/key-management.client.js';
import type { RecentChanges } from '../invalidation/recent-changes.js';
import type { VerifyMetrics } from './verify.metrics.js';
import { CachedLookup } from './cached-lookup.js';

export type AuthCache = Pick<
  AuthCacheRepository,
  'readForVerify' | 'setKeyRecord' | 'getPlan' | 'setPlan' | 'getChatbotOwner' | 'setChatbotOwner'
>;
export type KeyLookups = Pick<KeyManagementClient, 'lookupKey' | 'lookupAccount' | 'lookupChatbot'>;

const INVALID: VerifyReply = { valid: false, code: 'invalid_api_key' };
const MAX_IN_FLIGHT = 10_000;
const CHATBOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Decides `auth.verify`: is the key live, and does it reach the requested chatbot?
 * Answers come from Redis or, on a miss, from key-management; when neither can answer
 * the verify throws and the caller fails closed.
 */
export class VerifyService {
  private readonly keys: CachedLookup<KeyRecord>;
  private readonly plans: CachedLookup<Plan>;
  private readonly chatbotOwners: CachedLookup<string>;

  constructor(
    private readonly cache: AuthCache,
    keyManagement: KeyLookups,
    private readonly changes: RecentChanges,
    metrics: VerifyMetrics,
    private readonly now: () => number = Date.now,
  ) {
    const shared = { changes, metrics, maxInFlight: MAX_IN_FLIGHT };
    this.keys = new CachedLookup<KeyRecord>({
      ...shared,
      kind: 'key',
      write: (hash, record) => cache.setKeyRecord(hash, record),
      fetch: (hash) => keyManagement.lookupKey(hash),
    });
    this.plans = new CachedLookup<Plan>({
      ...shared,
      kind: 'account',
      write: (accountId, plan, shard) => cache.setPlan(accountId, plan, shard),
      fetch: async (accountId) => (await keyManagement.lookupAccount(accountId))?.plan ?? null,
    });
    this.chatbotOwners = new CachedLookup<string>({
      ...shared,
      kind: 'chatbot',
      write: (chatbotId, accountId, shard) => cache.setChatbotOwner(chatbotId, accountId, shard),
      fetch: async (chatbotId) => (await keyManagement.lookupChatbot(chatbotId))?.accountId ?? null,
    });
  }

  async verify(request: VerifyRequest): Promise<VerifyReply> {
    // A malformed key is refused before any lookup: it costs neither Redis nor key-management.
    const shape = classifyApiKey(request.key);
    if (shape === 'malformed') return INVALID;
    const keyHash = hashApiKey(request.key);
    // One spelling per chatbot: PostgreSQL reads an upper-case uuid as the same row, so the cache
    // and the deleted-chatbot tombstones (kept lower-case) must see it lower-case too.
    const chatbotId = request.chatbotId?.toLowerCase() ?? null;
    // One round trip reads every entry this verify may need; only what it lacks is read again or
    // asked of key-management. A chatbot id that is no uuid is not read (see decideUserKey).
    const named = chatbotId !== null && CHATBOT_ID.test(chatbotId) ? chatbotId : null;
    const entries = await this.cache.readForVerify(keyHash, named);
    // Just after an update this replica asks key-management: Redis may still hold the old record.
    const record = await this.keys.get(keyHash, this.changes.isKeyUnsettled(keyHash) ? MISS : entries.key, entries.shard);
    if (!record || this.changes.isRevoked(record.keyId)) return INVALID;
    // Expiry and a roll's grace end need no event: every verify compares them with the clock.
    if (record.endsAt !== null && record.endsAt <= this.now()) return INVALID;
    // A prefixed key always has its own type; anything else is not the key it claims to be.
    if ((shape === 'chatbot' || shape === 'user') && shape !== record.type) return INVALID;
    if (shape === 'legacy' && record.type !== 'user') return INVALID;

    const verified: VerifiedKey = {
      keyId: record.keyId,
      type: record.type,
      accountId: record.accountId,
      chatbotId,
      userId: record.type === 'user' ? record.userId : null,
      rateLimit: record.rateLimit,
    };
    const reply =
      record.type === 'chatbot'
        ? await this.decideChatbotKey(record, verified, entries)
        : await this.decideUserKey(record, verified, entries);
    return withLimits(reply, record, request.ip);
  }

  /** A chatbot key reaches its own chatbot only, and only while the account's plan allows chatbot keys. */
  private async decideChatbotKey(record: KeyRecord, verified: VerifiedKey, entries: VerifyEntries): Promise<VerifyReply> {
    // Deleting a chatbot revokes its keys: a record cached before that is no longer a live key.
    if (record.chatbotId === null || this.changes.isChatbotDeleted(record.chatbotId)) return INVALID;
    if (verified.chatbotId !== record.chatbotId) return deny(verified, 'insufficient_scope');
    const [plan, chatbotGone] = await Promise.all([
      this.plan(record.accountId, readAlong(entries, entries.plan, record.accountId), entries.shard),
      this.knownGone(record.chatbotId, readAlong(entries, entries.chatbot, record.chatbotId), entries.shard),
    ]);
    if (chatbotGone || plan === null) return INVALID;
    if (plan === 'free') return deny(verified, 'plan_not_eligible');
    return { valid: true, allowed: true, ...verified };
  }

  /** A user-level key reaches the account-level API and every live chatbot of its own account. */
  private async decideUserKey(record: KeyRecord, verified: VerifiedKey, entries: VerifyEntries): Promise<VerifyReply> {
    if (verified.chatbotId === null) return { valid: true, allowed: true, ...verified };
    const target = verified.chatbotId;
    // Chatbot ids are uuids: anything else names no chatbot, and is neither looked up nor cached
    // (it is whatever the client put in the path or body, a pasted API key included).
    const named = CHATBOT_ID.test(target) && !this.changes.isChatbotDeleted(target);
    const owner = named ? await this.owner(target, readAlong(entries, entries.chatbot, target), entries.shard) : null;
    // Asked again after the await: a deletion may have arrived while the owner was read.
    const live = owner !== null && !this.changes.isChatbotDeleted(target);
    // Unknown, deleted or another account's chatbot: one answer, so existence is not revealed.
    if (!live || owner !== record.accountId) return deny(verified, 'insufficient_scope');
    return { valid: true, allowed: true, ...verified };
  }

  /**
   * A plan change this replica has seen beats whatever Redis or a racing lookup says. Redis is
   * read again only when the first read did not read this account's plan (a key record not cached).
   */
  private async plan(accountId: string, alreadyRead: CacheRead<Plan> | undefined, shard: number): Promise<Plan | null> {
    const override = this.changes.planOverride(accountId);
    if (override) return override;
    const cached = alreadyRead ?? (await this.cache.getPlan(accountId, shard));
    const plan = await this.plans.get(accountId, cached, shard);
    return this.changes.planOverride(accountId) ?? plan;
  }

  /** The chatbot's owner; Redis is read again only if the first read did not read this chatbot. */
  private async owner(chatbotId: string, alreadyRead: CacheRead<string> | undefined, shard: number): Promise<string | null> {
    return this.chatbotOwners.get(chatbotId, await this.chatbotEntry(chatbotId, alreadyRead, shard), shard);
  }

  /**
   * Whether Redis says the chatbot is gone, without asking key-management: a replica that
   * started after a chatbot was deleted still refuses key records cached before that.
   */
  private async knownGone(chatbotId: string, alreadyRead: CacheRead<string> | undefined, shard: number): Promise<boolean> {
    const cached = await this.chatbotEntry(chatbotId, alreadyRead, shard);
    return cached.state === 'hit' && cached.value === null;
  }

  /** The chatbot's Redis entry: what the verify's first read found, or read now if it did not read it. */
  private async chatbotEntry(chatbotId: string, alreadyRead: CacheRead<string> | undefined, shard: number): Promise<CacheRead<string>> {
    return alreadyRead ?? this.cache.getChatbotOwner(chatbotId, shard);
  }
}

/**
 * What the verify's first read found for the entry of `id`, if it read it. A Redis that could
 * not be asked then is not asked again: every entry reads as unavailable.
 */
function readAlong<T>(entries: VerifyEntries, entry: ReadAlong<T> | null, id: string): CacheRead<T> | undefined {
  if (entries.key.state === 'unavailable') return UNAVAILABLE;
  return entry?.id === id ? entry.read : undefined;
}

/**
 * Adds the key's end and allow-list to a valid reply. The allow-list is judged last, once
 * everything else allows the key: `ip_not_allowed` then means "only the address is wrong".
 * Without `ip` an allow-listed key is never allowed (fail closed); the reply's `allowedIps`
 * lets a caller that judges client addresses itself, as the gateway does, decide per request.
 */
function withLimits(reply: VerifyReply, record: KeyRecord, ip: string | undefined): VerifyReply {
  if (!reply.valid) return reply;
  const limited: VerifyReply = { ...reply };
  if (record.endsAt !== null) limited.expiresAt = new Date(record.endsAt).toISOString();
  if (record.allowedIps === null) return limited;
  limited.allowedIps = record.allowedIps;
  if (!limited.allowed || (ip !== undefined && new IpAllowList(record.allowedIps).allows(ip))) return limited;
  const { allowed: _allowed, ...rest } = limited;
  return { ...rest, allowed: false, code: 'ip_not_allowed' };
}

function deny(verified: VerifiedKey, code: 'insufficient_scope' | 'plan_not_eligible'): VerifyReply {
  return { valid: true, allowed: false, code, ...verified };
}
