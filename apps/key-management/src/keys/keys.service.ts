import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import { CHATBOT_KEY_PLANS, type CreateKey, type KeyRef, type KeyView, type ListKeys, type RateLimit, type UpdateKey } from '@app/contracts';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { ActorResolver } from '../access/actor-resolver.js';
import { ChatbotAccess } from '../access/chatbot-access.js';
import { actsOnWholeAccount, type ResolvedActor } from '../access/resolved-actor.js';
import { ChatbotsRepository } from '../chatbots/chatbots.repository.js';
import { Transactions } from '../database/transactions.js';
import { EventPublisher } from '../events/event-publisher.js';
import { keysRevoked } from '../events/event-metrics.js';
import { DuplicateKeyHashError, KeysRepository, type KeyScope, type NewApiKey } from './keys.repository.js';
import { rateLimitColumns, rateLimitOf, toKeyView } from './key-view.js';
import type { ApiKeyEntity } from '../database/entities/index.js';

export const KEY_LIMIT_PER_CHATBOT = 10;

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
  ) {}

  async create(request: CreateKey): Promise<KeyView> {
    const actor = await this.actors.resolve(request.actor);
    const fields = {
      name: request.name,
      prefix: request.prefix,
      keyHash: request.keyHash,
      createdBy: actor.userId,
      legacy: false,
      rateLimit: request.rateLimit ?? null,
    };
    const key =
      request.chatbotId === null
        ? await this.insert({ ...fields, type: 'user', accountId: requireWholeAccount(actor), chatbotId: null, userId: actor.userId })
        : await this.createChatbotKey(actor, request.chatbotId, fields);
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

  /**
   * Changes the fields present. A new rate limit is announced before answering, like a
   * revocation: every gateway drops what it cached for the key and applies the new limit.
   */
  async update(request: UpdateKey): Promise<KeyView> {
    const scope = await this.scopeFor(request);
    const changes = { name: request.name, rateLimit: request.rateLimit };
    const { before, after } = await this.transactions.run(async (tx) => {
      const before = await this.keys.lockActive(tx, request.keyId, scope);
      if (!before) throw keyNotFound();
      await this.keys.update(tx, before.id, changes);
      const after: ApiKeyEntity = { ...before };
      if (changes.name !== undefined) after.name = changes.name;
      if (changes.rateLimit !== undefined) Object.assign(after, rateLimitColumns(changes.rateLimit));
      return { before, after };
    });
    if (after.name !== before.name) this.events.publish('keyRenamed', { keyId: after.id, accountId: after.accountId });
    if (!sameRateLimit(rateLimitOf(before), rateLimitOf(after))) {
      this.events.publish('keyUpdated', { keyId: after.id, keyHash: after.keyHash, accountId: after.accountId });
    }
    return toKeyView(after);
  }

  /**
   * Announces the revocation before answering: the one-second revocation goal is
   * measured from this answer. Revoking again finds no active key.
   */
  async revoke(request: KeyRef): Promise<null> {
    const scope = await this.scopeFor(request);
    const key = await this.transactions.run(async (tx) => {
      const key = await this.keys.lockActive(tx, request.keyId, scope);
      if (!key) throw keyNotFound();
      await this.keys.revoke(tx, key.id, new Date());
      return key;
    });
    keysRevoked.inc({ reason: 'api' });
    this.events.publish('keyRevoked', { keyId: key.id, keyHash: key.keyHash, accountId: key.accountId, chatbotId: key.chatbotId });
    return null;
  }

  private async createChatbotKey(actor: ResolvedActor, chatbotId: string, fields: Omit<NewApiKey, 'type' | 'accountId' | 'chatbotId' | 'userId'>) {
    const chatbot = await this.access.requireReachable(actor, chatbotId);
    const account = await this.accounts.findById(chatbot.accountId);
    if (!account || !CHATBOT_KEY_PLANS.includes(account.plan)) {
      throw new ApiError('plan_not_eligible', 'chatbot keys need the entry, standard or professional plan');
    }
    return this.transactions.run(async (tx) => {
      // The chatbot's row lock serialises creates on it, so the count below cannot go stale
      // before the insert: concurrent creates never pass the limit.
      const locked = await this.chatbots.lockLive(tx, chatbot.id);
      if (!locked) throw new ApiError('chatbot_not_found', 'no such chatbot');
      const active = await this.keys.countActiveForChatbot(tx, chatbot.id);
      if (active >= KEY_LIMIT_PER_CHATBOT) {
        throw new ApiError('key_limit_reached', `a chatbot has at most ${KEY_LIMIT_PER_CHATBOT} active keys`);
      }
      return this.keys.insert(tx, { ...fields, type: 'chatbot', accountId: chatbot.accountId, chatbotId: chatbot.id, userId: null });
    }).catch(asConflict);
  }

  private insert(key: NewApiKey) {
    return this.transactions.run((tx) => this.keys.insert(tx, key)).catch(asConflict);
  }

  private async scopeFor(request: { actor: ListKeys['actor']; chatbotId: string | null }): Promise<KeyScope> {
    const actor = await this.actors.resolve(request.actor);
    if (request.chatbotId === null) return { userKeysOf: requireWholeAccount(actor) };
    const chatbot = await this.access.requireReachable(actor, request.chatbotId);
    return { chatbotId: chatbot.id };
  }
}

/** User-level keys are the account's: members may neither hold nor manage them. */
function requireWholeAccount(actor: ResolvedActor): string {
  if (!actsOnWholeAccount(actor)) throw new ApiError('forbidden', 'only owners and admins manage user-level keys');
  return actor.accountId;
}

function sameRateLimit(a: RateLimit | null, b: RateLimit | null): boolean {
  return a?.requests === b?.requests && a?.windowSeconds === b?.windowSeconds;
}

function keyNotFound(): ApiError {
  return new ApiError('key_not_found', 'no such key');
}

function asConflict(error: unknown): never {
  if (error instanceof DuplicateKeyHashError) throw new ApiError('conflict', 'a key with this hash exists');
  throw error;
}
