import type { IncomingHttpHeaders } from 'node:http';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ApiError, brakeBucket, BusHandlers, CONFIG, KeyEventSubscriber } from '@app/common';
import { classifyApiKey, verifyOutcomeOf, type VerifiedKey } from '@app/contracts';
import type { GatewayConfig } from '../config.js';
import { authCacheLookups, authThrottled, cacheHitDuration, reportMemory, verifyDuration } from './auth-metrics.js';
import { keyHashOf } from './key-hash.js';
import { FailureThrottle } from './failure-throttle.js';
import { InvalidationLog, type ReplySubject } from './invalidation-log.js';
import { subscribeToKeyEvents, type Invalidation } from './key-events.js';
import { RateLimitedError } from './rate-limited-error.js';
import { ValidKeyRefusal, type KeyLimit } from './valid-key-refusal.js';
import { cacheKeyFor, VerifyCache } from './verify-cache.js';
import { VerifyClient } from './verify-client.js';
import { INVALID_REPLY, UNAVAILABLE_REPLY, parseVerifyReply, type CheckedReply } from './verify-reply.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
// Bound once: labelled lookups hash their label set on every call, and these run on every request.
const cacheHits = authCacheLookups.labels('hit');
const cacheMisses = authCacheLookups.labels('miss');
const cacheCoalesced = authCacheLookups.labels('coalesced');

/**
 * Decides whether a presented API key may reach a target chatbot (or, with `null`, the
 * account-level routes). Malformed keys never leave the process; the rest are asked of
 * `auth.verify` once and cached by hash until their TTL or an event invalidates them.
 * When the verifier cannot be asked, the answer is 503: fail closed, never open.
 */
@Injectable()
export class KeyAuthenticator extends BusHandlers implements OnModuleInit, OnModuleDestroy {
  private readonly cache: VerifyCache;
  private readonly changes: InvalidationLog;
  private readonly throttle = new FailureThrottle();
  /**
   * Per key (by hash): distinct targets verified outside its reach. One valid key tried on random
   * chatbot ids costs a verification each; past 50 of them a minute its uncached requests get 429
   * instead of reaching the verifier.
   */
  private readonly scopeBrake = new FailureThrottle();
  /** Verifications asked and not yet answered, per cache key, with the change number they were sent at. */
  private readonly inFlight = new Map<string, { reply: Promise<CheckedReply>; sentAt: number }>();
  private stopReporting: () => void = () => undefined;

  constructor(
    @Inject(KeyEventSubscriber) private readonly keyEvents: KeyEventSubscriber,
    @Inject(VerifyClient) private readonly verifier: VerifyClient,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {
    super();
    this.cache = new VerifyCache(config.authCache);
    this.changes = new InvalidationLog(config.verifyTimeoutMs);
  }

  protected subscribe() {
    return subscribeToKeyEvents(
      this.keyEvents,
      (change) => this.invalidate(change),
      () => this.distrustCache(),
    );
  }

  onModuleInit(): void {
    this.stopReporting = reportMemory(() => this.memorySizes());
  }

  /** Entries per in-memory structure; every one is bounded (cache size, change log size, throttle clients). */
  memorySizes(): Record<string, number> {
    const cache = this.cache.sizes;
    const changes = this.changes.sizes;
    return {
      verify_cache_valid: cache.positive,
      verify_cache_invalid: cache.negative,
      verify_cache_refused: cache.refused,
      recent_changes: changes.recent,
      settling_changes: changes.settling,
      revoked_keys: changes.revoked,
      throttled_clients: this.throttle.size,
      braked_keys: this.scopeBrake.size,
      verifications_in_flight: this.inFlight.size,
    };
  }

  onModuleDestroy(): void {
    this.stopReporting();
  }

  /** `Authorization: Bearer …` or `X-API-Key`; keys in the query string are never accepted. */
  presentedKey(headers: IncomingHttpHeaders): string | null {
    const authorization = headers.authorization;
    if (typeof authorization === 'string') {
      const bearer = BEARER.exec(authorization);
      if (bearer) return bearer[1];
    }
    const apiKey = headers['x-api-key'];
    const value = Array.isArray(apiKey) ? apiKey[0] : apiKey;
    return value !== undefined && value.trim() !== '' ? value.trim() : null;
  }

  /**
   * The decision the cache already holds, without waiting: the verified key, a thrown refusal
   * (ApiError), or undefined when `authenticate` has to ask `auth.verify`. The data plane's
   * warm path: no promise, no classification (only well-formed keys are ever cached).
   */
  fromCache(
    presentedKey: string,
    chatbotId: string | null,
    clientAddress: string,
    keyHash = keyHashOf(presentedKey),
  ): VerifiedKey | undefined {
    const startedAt = performance.now();
    const cached = this.cache.get(cacheKeyFor(keyHash, chatbotId), Date.now());
    if (!cached) return undefined;
    cacheHits.inc();
    try {
      return this.decide(cached, chatbotId, clientAddress);
    } finally {
      cacheHitDuration.observe((performance.now() - startedAt) / 1000);
    }
  }

  /**
   * Resolves for an allowed key; otherwise throws ApiError with `invalid_api_key`,
   * `insufficient_scope`, `plan_not_eligible`, `auth_unavailable` or `rate_limited`
   * (a RateLimitedError carrying its Retry-After).
   */
  async authenticate(presentedKey: string, chatbotId: string | null, clientAddress: string): Promise<VerifiedKey> {
    return this.decide(await this.replyFor(presentedKey, keyHashOf(presentedKey), chatbotId, clientAddress), chatbotId, clientAddress);
  }

  /**
   * Judges the credential alone, whatever it may reach: returns the key's id and rate limit when it is a live key, throws as
   * `authenticate` does when it is refused (invalid, revoked, throttled, or cannot be verified).
   * Lets the data plane answer a bad key before reading a body it would need for the target; the
   * scope is judged afterwards. Synchronous when the cache knows the key (no promise on the warm path).
   * `keyHash` lets the caller hash the key once for this and `fromCache`.
   */
  checkCredential(presentedKey: string, clientAddress: string, keyHash = keyHashOf(presentedKey)): Promise<KeyLimit> | KeyLimit {
    const known = this.cache.anyFor(keyHash, Date.now());
    if (known !== undefined) return this.decideCredential(known, clientAddress);
    return this.replyFor(presentedKey, keyHash, null, clientAddress).then((reply) => this.decideCredential(reply, clientAddress));
  }

  /**
   * The rate limit of a live key this gateway verified and still caches, asking no one: lets
   * the answers the gateway gives such a key itself (out of reach, a bad request) carry its
   * RateLimit fields. Undefined for a key unknown here, refused or past its end.
   */
  cachedRateLimit(presentedKey: string, keyHash = keyHashOf(presentedKey)): KeyLimit | undefined {
    const now = Date.now();
    const reply = this.cache.anyFor(keyHash, now);
    if (!reply?.valid || this.changes.isRevoked(reply.keyId, now)) return undefined;
    if (reply.endsAtMs !== undefined && reply.endsAtMs <= now) return undefined;
    return { keyId: reply.keyId, rateLimit: reply.rateLimit };
  }

  /** The verifier's reply for this key and target: cached, coalesced with one in flight, or asked now. */
  private async replyFor(presentedKey: string, keyHash: string, chatbotId: string | null, clientAddress: string): Promise<CheckedReply> {
    const cacheKey = cacheKeyFor(keyHash, chatbotId);
    const cached = this.cache.get(cacheKey, Date.now());
    if (cached) {
      cacheHits.inc();
      return cached;
    }
    if (classifyApiKey(presentedKey) === 'malformed') return this.refuseInvalid(clientAddress);
    this.refuseThrottled(clientAddress);
    this.refuseBrakedKey(keyHash);
    const running = this.inFlight.get(cacheKey);
    // One sent before a change about this key (or before events were missed) is not joined: its answer may be the old one.
    if (running && !this.changes.keyChangedSince(keyHash, running.sentAt)) {
      cacheCoalesced.inc();
      // Nothing changed since it was sent: its reply is as good as one asked now.
      if (this.changes.current() === running.sentAt) return running.reply;
      // Something did, maybe about the key id, account or chatbot the reply names (only known once
      // it comes): a reply about any of those changed since is not this request's, which asks again.
      const { sentAt } = running;
      return running.reply.then((reply) =>
        this.changes.subjectChangedSince(subjectOf(reply, keyHash, chatbotId), sentAt, Date.now())
          ? this.startVerification(presentedKey, keyHash, cacheKey, chatbotId)
          : reply,
      );
    }
    cacheMisses.inc();
    return this.startVerification(presentedKey, keyHash, cacheKey, chatbotId);
  }

  private startVerification(presentedKey: string, keyHash: string, cacheKey: string, chatbotId: string | null): Promise<CheckedReply> {
    const sentAt = this.changes.current();
    const reply = this.verifyRemotely(presentedKey, keyHash, cacheKey, chatbotId, sentAt).finally(() => {
      if (this.inFlight.get(cacheKey)?.reply === reply) this.inFlight.delete(cacheKey);
    });
    this.inFlight.set(cacheKey, { reply, sentAt });
    return reply;
  }

  private async verifyRemotely(
    key: string,
    keyHash: string,
    cacheKey: string,
    chatbotId: string | null,
    sentAt: number,
  ): Promise<CheckedReply> {
    const stopTimer = verifyDuration.startTimer();
    let reply: CheckedReply;
    try {
      const raw = await this.verifier.verify(chatbotId === null ? { key } : { key, chatbotId }, this.config.verifyTimeoutMs);
      reply = parseVerifyReply(raw);
    } catch {
      // BusUnavailableError (no responder, timeout, connection down) or an unreadable reply.
      reply = UNAVAILABLE_REPLY;
    }
    const now = Date.now();
    if (reply.valid && this.changes.isRevoked(reply.keyId, now)) reply = INVALID_REPLY;
    // Distinct chatbots count, not verifications: a key sweeping chatbot ids is braked, while one
    // that keeps trying the same wrong chatbot (with a short cache TTL) does not lose its own.
    if (reply.valid && !reply.allowed && reply.code === 'insufficient_scope') this.scopeBrake.recordFailure(keyHash, now, chatbotId ?? '');
    stopTimer({ outcome: verifyOutcomeOf(reply) });
    // Checked against exactly what the reply is about: a change to any of it since the request was sent (or lately) keeps it out.
    if (this.changes.mayCache(subjectOf(reply, keyHash, chatbotId), sentAt, now)) this.cache.set(cacheKey, keyHash, reply, now);
    return reply;
  }

  /**
   * An allow-listed key's reply carries its list (the verifier is not told the client address,
   * so it answers `ip_not_allowed` when nothing else refuses): the address is judged here, per
   * request, which lets one cached reply serve every client.
   */
  private decide(reply: CheckedReply, chatbotId: string | null, clientAddress: string): VerifiedKey {
    if (reply.valid) {
      const now = Date.now();
      if (this.changes.isRevoked(reply.keyId, now) || (reply.endsAtMs !== undefined && reply.endsAtMs <= now)) {
        return this.refuseInvalid(clientAddress);
      }
      const key = { keyId: reply.keyId, rateLimit: reply.rateLimit };
      if (!reply.allowed && reply.code !== 'ip_not_allowed') throw new ValidKeyRefusal(reply.code, REFUSALS[reply.code], key);
      if (reply.allowList ? !reply.allowList.allows(clientAddress) : !reply.allowed) {
        throw new ValidKeyRefusal('ip_not_allowed', REFUSALS.ip_not_allowed, key);
      }
      return {
        keyId: reply.keyId,
        type: reply.type,
        accountId: reply.accountId,
        chatbotId,
        userId: reply.userId,
        rateLimit: reply.rateLimit,
      };
    }
    if (reply.code === 'auth_unavailable') throw new ApiError('auth_unavailable', REFUSALS.auth_unavailable);
    return this.refuseInvalid(clientAddress);
  }

  /** A valid key passes whatever it is allowed to reach; the target is judged later by `decide`. */
  private decideCredential(reply: CheckedReply, clientAddress: string): KeyLimit {
    if (reply.valid) {
      const now = Date.now();
      if (this.changes.isRevoked(reply.keyId, now) || (reply.endsAtMs !== undefined && reply.endsAtMs <= now)) {
        this.refuseInvalid(clientAddress);
      }
      const key = { keyId: reply.keyId, rateLimit: reply.rateLimit };
      // An address outside the key's allow-list is a refused credential too: answered before the body.
      if (reply.allowList && !reply.allowList.allows(clientAddress))
        throw new ValidKeyRefusal('ip_not_allowed', REFUSALS.ip_not_allowed, key);
      return key;
    }
    if (reply.code === 'auth_unavailable') throw new ApiError('auth_unavailable', REFUSALS.auth_unavailable);
    return this.refuseInvalid(clientAddress);
  }

  private refuseInvalid(clientAddress: string): never {
    this.refuseThrottled(clientAddress);
    this.throttle.recordFailure(brakeBucket(clientAddress), Date.now());
    throw new ApiError('invalid_api_key', REFUSALS.invalid_api_key);
  }

  private refuseThrottled(clientAddress: string): void {
    const waitMs = this.throttle.retryAfterMs(brakeBucket(clientAddress), Date.now());
    if (waitMs === 0) return;
    authThrottled.inc();
    throw new RateLimitedError(Math.ceil(waitMs / 1000));
  }

  /**
   * Events may have been missed (a reconnect, a skipped event number): nothing cached before can
   * be trusted, so it is all dropped, and verifications already in flight are not cached either
   * (the change log distrusts them). From here on every event arrives again, so what is cached next is sound.
   */
  private distrustCache(): void {
    this.changes.distrustAll();
    this.cache.clear();
  }

  private refuseBrakedKey(keyHash: string): void {
    const waitMs = this.scopeBrake.retryAfterMs(keyHash, Date.now());
    if (waitMs === 0) return;
    authThrottled.inc();
    throw new RateLimitedError(Math.ceil(waitMs / 1000), 'too many requests outside the reach of this key; retry later');
  }

  private invalidate(change: Invalidation): void {
    const now = Date.now();
    this.changes.changed(change, now);
    if (change.keyHash) this.cache.dropKeyHash(change.keyHash);
    if (change.keyId) this.cache.dropKeyId(change.keyId);
    if (change.accountId) this.cache.dropAccount(change.accountId);
  }
}

/** What a reply is about: the key presented, for a valid key its id and account, and the target asked for. */
function subjectOf(reply: CheckedReply, keyHash: string, chatbotId: string | null): ReplySubject {
  return { keyHash, keyId: reply.valid ? reply.keyId : null, accountId: reply.valid ? reply.accountId : null, chatbotId };
}

const REFUSALS = {
  invalid_api_key: 'the API key is not valid',
  insufficient_scope: 'the API key does not reach this resource',
  plan_not_eligible: "the account's plan does not allow chatbot keys",
  ip_not_allowed: 'the API key may not be used from this address',
  auth_unavailable: 'the API key could not be verified; retry shortly',
} as const;
