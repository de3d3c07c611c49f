import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import {
  CHATBOT_KEY_PLANS,
  KEY_LIMIT_PER_CHATBOT,
  type CreateKey,
  type KeyRef,
  type KeyView,
  type ListKeys,
  type RateLimit,
  type RenameKey,
  type RollKey,
  type UpdateKey,
} from '@app/contracts';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { ActorResolver } from '../access/actor-resolver.js';
import { AuditLog, auditActor } from '../audit/audit-log.js';
import { ChatbotAccess } from '../access/chatbot-access.js';
import { actsOnWholeAccount, type ResolvedActor } from '../access/resolved-actor.js';
import { ChatbotsRepository } from '../chatbots/chatbots.repository.js';
import type { ApiKeyEntity } from '../database/entities/index.js';
import { Transactions, type Tx } from '../database/transactions.js';
import { EventPublisher } from '../events/event-publisher.js';
import { keysRevoked } from '../events/event-metrics.js';
import { DuplicateKeyHashError, KeysRepository, type KeyChanges, type KeyScope, type NewApiKey } from './keys.repository.js';
import { endOf, rateLimitColumns, rateLimitOf, toKeyView } from './key-view.js';

/**
 * The management API's keys, on behalf of a resolved caller. chatbotId null addresses
 * the account's user-level keys, which only owners and admins may touch.
 */
@Injectable()
export class KeysService {
  constructor(
    @Inject(ActorResolver) private readonly actors: ActorResolver,
    @Inject(ChatbotAccess) private readonly access: ChatbotAccess,
    @Inject(AccountsRepository) private readonly accounts: AccountsRepository,
    @Inject(ChatbotsRepository) private readonly chatbots: ChatbotsRepository,
    @Inject(KeysRepository) private readonly keys: KeysRepository,
    @Inject(Transactions) private readonly transactions: Transactions,
    @Inject(EventPublisher) private readonly events: EventPublisher,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async create(request: CreateKey): Promise<KeyView> {
    const actor = await this.actors.resolve(request.actor);
    const fields = {
      name: request.name,
      prefix: request.prefix,
      keyHash: request.keyHash,
      createdBy: actor.userId,
      legacy: false,
      expiresAt: request.expiresAt === undefined ? null : futureInstant(request.expiresAt, new Date()),
      allowedIps: request.allowedIps ?? null,
      rateLimit: request.rateLimit ?? null,
    };
    const recordCreation = (tx: Tx, key: ApiKeyEntity) =>
      this.audit.record(tx, {
        action: 'key.created',
        actor: auditActor(request.actor, actor),
        origin: request.origin,
        accountId: key.accountId,
        chatbotId: key.chatbotId,
        keyId: key.id,
        details: { type: key.type, name: key.name },
      });
    const key =
      request.chatbotId === null
        ? await this.insert(
            { ...fields, type: 'user', accountId: requireWholeAccount(actor), chatbotId: null, userId: actor.userId },
            recordCreation,
          )
        : await this.createChatbotKey(actor, request.chatbotId, fields, recordCreation);
    this.events.publish('keyCreated', { keyId: key.id, keyHash: key.keyHash, accountId: key.accountId });
    return toKeyView(key);
  }

  async list(request: ListKeys): Promise<{ data: KeyView[] }> {
    const scope = await this.scopeFor(request);
    const keys = await this.keys.listActive(scope);
    return { data: keys.map((key) => toKeyView(key)) };
  }

  async get(request: KeyRef): Promise<KeyView> {
    const key = await this.keys.findActive(request.keyId, await this.scopeFor(request));
    if (!key) throw keyNotFound();
    return toKeyView(key);
  }

  async rename(request: RenameKey): Promise<KeyView> {
    const { actor, scope } = await this.callerAndScope(request);
    const key = await this.transactions.run(async (tx) => {
      const key = await this.keys.lockActive(tx, request.keyId, scope);
      if (!key) throw keyNotFound();
      await this.keys.rename(tx, key.id, request.name);
      await this.audit.record(tx, {
        action: 'key.renamed',
        actor: auditActor(request.actor, actor),
        origin: request.origin,
        accountId: key.accountId,
        chatbotId: key.chatbotId,
        keyId: key.id,
        details: { name: { old: key.name, new: request.name } },
      });
      return { ...key, name: request.name };
    });
    this.events.publish('keyRenamed', { keyId: key.id, accountId: key.accountId });
    return toKeyView(key);
  }

  /**
   * Changes what a PATCH names; null clears the expiry, the allow-list or the rate limit. Anything
   * beyond the name is announced as an update: every gateway and verifier drops the key from its
   * caches and reads it again from the database (a new rate limit applies within a second).
   */
  async update(request: UpdateKey): Promise<KeyView> {
    const changes: KeyChanges = {};
    if (request.name !== undefined) changes.name = request.name;
    if (request.expiresAt !== undefined)
      changes.expiresAt = request.expiresAt === null ? null : futureInstant(request.expiresAt, new Date());
    if (request.enabled !== undefined) changes.enabled = request.enabled;
    if (request.allowedIps !== undefined) changes.allowedIps = request.allowedIps;
    if (request.rateLimit !== undefined) Object.assign(changes, rateLimitColumns(request.rateLimit));
    if (!Object.keys(changes).length)
      throw new ApiError('invalid_request', 'give at least one of name, expiresAt, enabled, allowedIps, rateLimit');
    const { actor, scope } = await this.callerAndScope(request);
    const { key, rereadNeeded } = await this.transactions.run(async (tx) => {
      const key = await this.keys.lockActive(tx, request.keyId, scope);
      if (!key) throw keyNotFound();
      await this.keys.update(tx, key.id, changes);
      const event = {
        actor: auditActor(request.actor, actor),
        origin: request.origin,
        accountId: key.accountId,
        chatbotId: key.chatbotId,
        keyId: key.id,
      };
      if (changes.name !== undefined) {
        await this.audit.record(tx, { ...event, action: 'key.renamed', details: { name: { old: key.name, new: changes.name } } });
      }
      const updated = updatedFields(key, changes);
      if (Object.keys(updated).length) await this.audit.record(tx, { ...event, action: 'key.updated', details: updated });
      // A rate limit set to the one the key has changes no verify answer: no cache need drop it.
      const rereadNeeded =
        Object.keys(changes).some((field) => !['name', 'rateLimitRequests', 'rateLimitWindowSeconds'].includes(field)) ||
        (changes.rateLimitRequests !== undefined && !sameRateLimit(rateLimitOf(key), rateLimitAfter(key, changes)));
      return { key: { ...key, ...changes }, rereadNeeded };
    });
    if (changes.name !== undefined) this.events.publish('keyRenamed', { keyId: key.id, accountId: key.accountId });
    if (rereadNeeded) this.announceUpdate(key);
    return toKeyView(key);
  }

  /**
   * Replaces a key with a new one that takes over its name, expiry, allow-list and rate limit; the old key
   * keeps working for the grace period (never past its own expiry; 0 revokes it at once).
   * Not bound by the 10-key limit: the old key leaves it when its grace ends.
   *
   * Rolling twice in a row: rolling the new key cuts off the key it replaced at once (only the
   * latest predecessor gets a grace period), and a key already rolled cannot be rolled again
   * (409 conflict: roll its successor). So a chain of rolls never holds more than two working keys.
   */
  async roll(request: RollKey): Promise<KeyView> {
    const actor = await this.actors.resolve(request.actor);
    const scope = await this.scopeForActor(actor, request.chatbotId);
    if ('chatbotId' in scope) await this.requireChatbotKeyPlan(actor.accountId);
    const now = new Date();
    const rolled = await this.transactions
      .run(async (tx) => {
        // Serialises with creates and with the chatbot's deletion, which revokes its keys.
        if ('chatbotId' in scope && !(await this.chatbots.lockLive(tx, scope.chatbotId))) {
          throw new ApiError('chatbot_not_found', 'no such chatbot');
        }
        const old = await this.keys.lockActive(tx, request.keyId, scope);
        if (!old) throw keyNotFound();
        const end = endOf(old);
        if (old.expiresAt !== null && old.expiresAt <= now)
          throw new ApiError('key_expired', 'the key has expired: create a new key instead');
        if (old.revokedAt !== null) throw new ApiError('conflict', 'the key has already been rolled: roll the key that replaced it');
        const successor = await this.keys.insert(tx, {
          type: old.type,
          accountId: old.accountId,
          chatbotId: old.chatbotId,
          userId: old.userId,
          createdBy: actor.userId,
          name: old.name,
          prefix: request.prefix,
          keyHash: request.keyHash,
          legacy: false,
          expiresAt: old.expiresAt,
          allowedIps: old.allowedIps,
          rolledFrom: old.id,
          rateLimit: rateLimitOf(old),
        });
        const graceEnd = new Date(now.getTime() + request.gracePeriodSeconds * 1000);
        const cutOff = end !== null && end < graceEnd ? end : graceEnd;
        await this.keys.revoke(tx, old.id, cutOff);
        const predecessor = await this.cutOffPredecessor(tx, old, scope, now);
        await this.audit.record(tx, {
          action: 'key.rolled',
          actor: auditActor(request.actor, actor),
          origin: request.origin,
          accountId: old.accountId,
          chatbotId: old.chatbotId,
          keyId: successor.id,
          details: {
            rolledFrom: old.id,
            gracePeriodSeconds: request.gracePeriodSeconds,
            oldKeyEndsAt: cutOff.toISOString(),
            ...(predecessor ? { cutOff: predecessor.id } : {}),
          },
        });
        return { old: { ...old, revokedAt: cutOff }, successor, predecessor };
      })
      .catch(asConflict);
    const { old, successor, predecessor } = rolled;
    this.events.publish('keyCreated', { keyId: successor.id, keyHash: successor.keyHash, accountId: successor.accountId });
    if (old.revokedAt <= now) this.announceRevocation(old, 'roll');
    else this.announceUpdate(old);
    if (predecessor) this.announceRevocation(predecessor, 'roll');
    return toKeyView(successor, now);
  }

  /** The key `old` replaced, if still in its grace period: a second roll ends that grace at once. */
  private async cutOffPredecessor(tx: Tx, old: ApiKeyEntity, scope: KeyScope, now: Date): Promise<ApiKeyEntity | null> {
    if (old.rolledFrom === null) return null;
    const predecessor = await this.keys.lockActive(tx, old.rolledFrom, scope);
    if (!predecessor) return null;
    await this.keys.revoke(tx, predecessor.id, now);
    return predecessor;
  }

  private announceUpdate(key: ApiKeyEntity): void {
    this.events.publish('keyUpdated', { keyId: key.id, keyHash: key.keyHash, accountId: key.accountId, chatbotId: key.chatbotId });
  }

  private announceRevocation(key: ApiKeyEntity, reason: 'api' | 'roll'): void {
    keysRevoked.inc({ reason });
    this.events.publish('keyRevoked', { keyId: key.id, keyHash: key.keyHash, accountId: key.accountId, chatbotId: key.chatbotId });
  }

  /**
   * Announces the revocation before answering: the one-second revocation goal is
   * measured from this answer. Revoking again finds no active key.
   */
  async revoke(request: KeyRef): Promise<null> {
    const { actor, scope } = await this.callerAndScope(request);
    const key = await this.transactions.run(async (tx) => {
      const key = await this.keys.lockActive(tx, request.keyId, scope);
      if (!key) throw keyNotFound();
      await this.keys.revoke(tx, key.id, new Date());
      await this.audit.record(tx, {
        action: 'key.revoked',
        actor: auditActor(request.actor, actor),
        origin: request.origin,
        accountId: key.accountId,
        chatbotId: key.chatbotId,
        keyId: key.id,
        details: { name: key.name },
      });
      return key;
    });
    this.announceRevocation(key, 'api');
    return null;
  }

  private async createChatbotKey(
    actor: ResolvedActor,
    chatbotId: string,
    fields: Omit<NewApiKey, 'type' | 'accountId' | 'chatbotId' | 'userId'>,
    recordCreation: (tx: Tx, key: ApiKeyEntity) => Promise<void>,
  ) {
    const chatbot = await this.access.requireReachable(actor, chatbotId);
    await this.requireChatbotKeyPlan(chatbot.accountId);
    return this.transactions
      .run(async (tx) => {
        // The chatbot's row lock serialises creates on it, so the count below cannot go stale
        // before the insert: concurrent creates never pass the limit.
        const locked = await this.chatbots.lockLive(tx, chatbot.id);
        if (!locked) throw new ApiError('chatbot_not_found', 'no such chatbot');
        const active = await this.keys.countActiveForChatbot(tx, chatbot.id);
        if (active >= KEY_LIMIT_PER_CHATBOT) {
          throw new ApiError('key_limit_reached', `a chatbot has at most ${KEY_LIMIT_PER_CHATBOT} active keys`);
        }
        const key = await this.keys.insert(tx, {
          ...fields,
          type: 'chatbot',
          accountId: chatbot.accountId,
          chatbotId: chatbot.id,
          userId: null,
        });
        await recordCreation(tx, key);
        return key;
      })
      .catch(asConflict);
  }

  private async requireChatbotKeyPlan(accountId: string): Promise<void> {
    const account = await this.accounts.findById(accountId);
    if (!account || !CHATBOT_KEY_PLANS.includes(account.plan)) {
      throw new ApiError('plan_not_eligible', 'chatbot keys need the entry, standard or professional plan');
    }
  }

  private insert(fields: NewApiKey, recordCreation: (tx: Tx, key: ApiKeyEntity) => Promise<void>) {
    return this.transactions
      .run(async (tx) => {
        const key = await this.keys.insert(tx, fields);
        await recordCreation(tx, key);
        return key;
      })
      .catch(asConflict);
  }

  private async scopeFor(request: { actor: ListKeys['actor']; chatbotId: string | null }): Promise<KeyScope> {
    return (await this.callerAndScope(request)).scope;
  }

  /** The resolved caller too, for changes: their audit event names who made them. */
  private async callerAndScope(request: {
    actor: ListKeys['actor'];
    chatbotId: string | null;
  }): Promise<{ actor: ResolvedActor; scope: KeyScope }> {
    const actor = await this.actors.resolve(request.actor);
    return { actor, scope: await this.scopeForActor(actor, request.chatbotId) };
  }

  private async scopeForActor(actor: ResolvedActor, chatbotId: string | null): Promise<KeyScope> {
    if (chatbotId === null) return { userKeysOf: requireWholeAccount(actor) };
    const chatbot = await this.access.requireReachable(actor, chatbotId);
    return { chatbotId: chatbot.id };
  }
}

/** User-level keys are the account's: members may neither hold nor manage them. */
function requireWholeAccount(actor: ResolvedActor): string {
  if (!actsOnWholeAccount(actor)) throw new ApiError('forbidden', 'only owners and admins manage user-level keys');
  return actor.accountId;
}

/** An expiry must lie ahead: a key created or changed to expire in the past would be a confusing revoke. */
function futureInstant(iso: string, now: Date): Date {
  const instant = new Date(iso);
  if (Number.isNaN(instant.getTime())) throw new ApiError('invalid_request', 'expiresAt: not a valid ISO-8601 date-time');
  if (instant <= now) throw new ApiError('invalid_request', 'expiresAt: must be in the future');
  return instant;
}

function sameRateLimit(a: RateLimit | null, b: RateLimit | null): boolean {
  return a?.requests === b?.requests && a?.windowSeconds === b?.windowSeconds;
}

/** The rate limit a key has once `changes` apply. */
function rateLimitAfter(key: ApiKeyEntity, changes: KeyChanges): RateLimit | null {
  return rateLimitOf({ ...key, ...changes });
}

function keyNotFound(): ApiError {
  return new ApiError('key_not_found', 'no such key');
}

function asConflict(error: unknown): never {
  if (error instanceof DuplicateKeyHashError) throw new ApiError('conflict', 'a key with this hash exists');
  throw error;
}

/** The fields of a PATCH other than the name, each with its value before and after (an audit event's details). */
function updatedFields(key: ApiKeyEntity, changes: KeyChanges): Record<string, { old: unknown; new: unknown }> {
  const details: Record<string, { old: unknown; new: unknown }> = {};
  if (changes.expiresAt !== undefined)
    details.expiresAt = { old: key.expiresAt?.toISOString() ?? null, new: changes.expiresAt?.toISOString() ?? null };
  if (changes.enabled !== undefined) details.enabled = { old: key.enabled, new: changes.enabled };
  if (changes.allowedIps !== undefined) details.allowedIps = { old: key.allowedIps, new: changes.allowedIps };
  if (changes.rateLimitRequests !== undefined) details.rateLimit = { old: rateLimitOf(key), new: rateLimitAfter(key, changes) };
  return details;
}
