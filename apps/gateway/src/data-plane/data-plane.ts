import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, CONFIG } from '@app/common';
import type { VerifiedKey } from '@app/contracts';
import type { GatewayConfig } from '../config.js';
import { sendError } from '../http/error-response.js';
import { clientAddress, forwardedHeaders } from '../http/client-address.js';
import { KeyAuthenticator } from '../auth/key-authenticator.js';
import { keyHashOf } from '../auth/key-hash.js';
import { ValidKeyRefusal, type KeyLimit } from '../auth/valid-key-refusal.js';
import { normaliseApiPath } from './api-path.js';
import { upstreamRequestHeaders } from './forwarded-headers.js';
import { queryValues, refuseFieldInQuery } from './field-names.js';
import { readBody, requireJsonBody, stringField } from './json-body.js';
import { RouteTable, type RouteMatch } from './route-table.js';
import { loadRoutes } from './routes-file.js';
import { UpstreamClient, type ForwardOutcome } from './upstream-client.js';
import { RequestMetrics, routeClassOf, type RouteClass } from './request-metrics.js';
import { UsagePublisher } from '../usage/usage-publisher.js';
import { KeyRateLimiter } from '../rate-limit/key-rate-limiter.js';
import { keyRateLimited, setRateLimitHeaders } from '../rate-limit/rate-limit-headers.js';
import { rateLimitRefusals } from '../rate-limit/rate-limit-metrics.js';

const MAX_CHATBOT_ID_LENGTH = 64;
/** The status metrics record for a request whose client left before the upstream answered (nginx's convention). */
const CLIENT_CLOSED = 499;

/**
 * The hot path: `/api/*` on the raw Fastify instance (no Nest controller, no per-request log).
 * Normalise the path, find the route and its target chatbot, verify the key for that target,
 * then relay the request to the upstream and stream its answer back.
 */
@Injectable()
export class DataPlane implements OnApplicationShutdown {
  private readonly routes: RouteTable;
  private readonly upstream: UpstreamClient;
  private readonly metrics = new RequestMetrics();

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(KeyAuthenticator) private readonly auth: KeyAuthenticator,
    @Inject(UsagePublisher) private readonly usage: UsagePublisher,
    @Inject(KeyRateLimiter) private readonly limiter: KeyRateLimiter,
  ) {
    this.routes = new RouteTable(loadRoutes(config.routesFile));
    this.upstream = new UpstreamClient({
      url: config.upstreamUrl,
      connections: config.upstreamConnections,
      timeoutMs: config.upstreamTimeoutMs,
    });
  }

  async mount(fastify: FastifyInstance): Promise<void> {
    await fastify.register(async (scope) => {
      // Bodies are not parsed here: a route that needs a JSON field reads it, every other body streams through.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
      scope.all('/api/*', (request, reply) => this.handle(request, reply));
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.upstream.close();
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const startedAt = performance.now();
    let route: RouteClass = 'unrouted';
    let presented: string | null = null;
    // Set once the credential is known good: the answers that follow describe its rate limit.
    let credential: KeyLimit | undefined;
    try {
      presented = this.auth.presentedKey(request.headers);
      const target = normaliseApiPath(request.raw.url ?? '/');
      const match = this.routes.match(request.method, target.path);
      if (!match) throw new ApiError('not_found', 'no such route');
      route = routeClassOf(match.chatbotIdSource);
      if (presented === null) throw new ApiError('missing_api_key', 'send the API key as "Authorization: Bearer …" or "X-API-Key"');
      // Only a route whose chatbot id is in the body reads (and parses) the body; every other body streams through.
      // Such a route hashes the key once, for the credential check before the body and the lookup after it.
      const source = match.chatbotIdSource;
      const client = clientAddress(request);
      let body: Buffer | null = null;
      let keyHash: string | undefined;
      if (source?.from === 'body') {
        keyHash = keyHashOf(presented);
        // The body is read once everything that needs none has passed: the media type, the query string and the
        // credential. A refused key is answered while its body is still arriving: unauthenticated clients cannot
        // make the gateway hold their bodies.
        requireJsonBody(request.headers);
        refuseFieldInQuery(target.query, source.name);
        credential = await this.auth.checkCredential(presented, client, keyHash);
        body = await readBody(request.raw, this.config.bodyLimitBytes);
      }
      const chatbotId = this.chatbotIdOf(match, target.query, body);
      const key =
        this.auth.fromCache(presented, chatbotId, client, keyHash) ?? (await this.auth.authenticate(presented, chatbotId, client));
      // A key without a limit costs this one comparison.
      if (key.rateLimit !== null) await this.admit(reply, key);
      const status = await this.forward(request, reply, target.path + target.query, key, body);
      this.metrics.record(route, status ?? CLIENT_CLOSED, startedAt);
      return reply;
    } catch (error) {
      if (reply.sent || reply.raw.headersSent) return reply;
      // Anything unexpected goes to the gateway's error handling (logged, answered 500 internal_error).
      if (!(error instanceof ApiError)) {
        this.metrics.record(route, 500, startedAt);
        throw error;
      }
      this.metrics.record(route, error.status, startedAt);
      if (presented !== null && !reply.raw.hasHeader('ratelimit')) await this.describeLimit(reply, presented, credential, error);
      // A refused request's body (an oversized one too) is not worth reading: answer, then close.
      if (error.code === 'payload_too_large' || (hasBody(request) && !request.raw.readableEnded)) reply.header('connection', 'close');
      return sendError(request, reply, error.code, error.message, error.headers);
    }
  }

  /**
   * Counts the request against the key's own limit, decided from memory (see KeyRateLimiter).
   * The headers go on whatever answer follows; a refused request is neither forwarded nor a use,
   * but reported as refused in the key's usage.
   */
  private async admit(reply: FastifyReply, key: VerifiedKey): Promise<void> {
    const limit = key.rateLimit!;
    const decision = this.limiter.decide(key.keyId, limit) ?? (await this.limiter.decideAfterLoad(key.keyId, limit));
    setRateLimitHeaders(reply.raw, decision);
    if (decision.allowed) return;
    rateLimitRefusals.inc();
    this.usage.recordRefusal(key.keyId);
    throw keyRateLimited(decision);
  }

  /**
   * An answer the gateway gives a live limited key itself (out of its reach, a bad request, a
   * brake) carries the key's RateLimit fields too, as they stand: such a request is not counted.
   * Only a key known to be valid is described (by the refusal itself, the credential check before
   * a body, or this gateway's verify cache): the gateway does not verify a key only to describe it.
   */
  private async describeLimit(reply: FastifyReply, presented: string, credential: KeyLimit | undefined, error: ApiError): Promise<void> {
    if (error.code === 'invalid_api_key' || error.code === 'auth_unavailable' || error.code === 'missing_api_key') return;
    const known = error instanceof ValidKeyRefusal ? error.key : (credential ?? this.auth.cachedRateLimit(presented));
    if (known?.rateLimit == null) return;
    const { keyId, rateLimit } = known;
    const state = this.limiter.decide(keyId, rateLimit, false) ?? (await this.limiter.decideAfterLoad(keyId, rateLimit, false));
    setRateLimitHeaders(reply.raw, state);
  }

  /** The chatbot the request targets, in canonical form; null on account routes. */
  private chatbotIdOf(match: RouteMatch, query: string, body: Buffer | null): string | null {
    const source = match.chatbotIdSource;
    if (source === null) return null;
    if (source.from === 'body') return checkedChatbotId(stringField(body!, source.name));
    if (source.from === 'path') return checkedChatbotId(decodeSegment(match.params[source.name]));
    const values = queryValues(query, source.name);
    // Two values could be read differently upstream: refuse rather than pick one.
    if (values.length > 1) throw new ApiError('invalid_request', `the query parameter "${source.name}" is repeated`);
    return checkedChatbotId(values[0]);
  }

  /** Relays the request; resolves with the upstream's status, or null when the client left before it answered. */
  private async forward(
    request: FastifyRequest,
    reply: FastifyReply,
    pathAndQuery: string,
    key: VerifiedKey,
    body: Buffer | null,
  ): Promise<ForwardOutcome> {
    const status = await this.upstream.forward(
      {
        method: request.method,
        pathAndQuery,
        headers: upstreamRequestHeaders(request.headers, key, request.id, forwardedHeaders(request)),
        body: body ?? (hasBody(request) ? request.raw : null),
        requestId: request.id,
      },
      reply.raw,
      () => {
        reply.hijack();
      },
    );
    // Forwarded with a valid key: the one place a request counts as a use of `key` (docs/api.md, Usage).
    // Refused requests and upstream failures (thrown above) are not uses.
    this.usage.recordUse(key.keyId);
    return status;
  }
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function decodeSegment(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('invalid_request', 'the chatbot id in the path is malformed');
  }
}

/** Printable ASCII: chatbot ids are uuids; anything else names no chatbot, and could fold differently upstream. */
const CHATBOT_ID_CHARACTERS = /^[\x21-\x7e]+$/;
const UPPER_CASE = /[A-Z]/;

/**
 * The chatbot id in its one canonical form, lower-case: PostgreSQL reads `A1B2…` and `a1b2…` as
 * the same uuid, so caches, tombstones and `X-Chatbot-Id` must too (a deleted chatbot must not
 * come back under its upper-case spelling).
 */
function checkedChatbotId(chatbotId: string | undefined): string {
  if (chatbotId === undefined || chatbotId === '') throw new ApiError('invalid_request', 'this route needs a chatbot id');
  if (chatbotId.length > MAX_CHATBOT_ID_LENGTH) throw new ApiError('invalid_request', 'the chatbot id is too long');
  if (!CHATBOT_ID_CHARACTERS.test(chatbotId)) throw new ApiError('invalid_request', 'the chatbot id holds a character no chatbot id has');
  return UPPER_CASE.test(chatbotId) ? chatbotId.toLowerCase() : chatbotId;
}
