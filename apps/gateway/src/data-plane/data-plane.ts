import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, CONFIG } from '@app/common';
import type { VerifiedKey } from '@app/contracts';
import type { GatewayConfig } from '../config.js';
import { sendError } from '../http/error-response.js';
import { KeyAuthenticator } from '../auth/key-authenticator.js';
import { normaliseApiPath } from './api-path.js';
import { upstreamRequestHeaders } from './forwarded-headers.js';
import { readBody, stringField } from './json-body.js';
import { RouteTable, type RouteMatch } from './route-table.js';
import { loadRoutes } from './routes-file.js';
import { UpstreamClient } from './upstream-client.js';
import { UsagePublisher } from '../usage/usage-publisher.js';

const MAX_CHATBOT_ID_LENGTH = 64;

/**
 * The hot path: `/api/*` on the raw Fastify instance (no Nest controller, no per-request log).
 * Normalise the path, find the route and its target chatbot, verify the key for that target,
 * then relay the request to the upstream and stream its answer back.
 */
@Injectable()
export class DataPlane implements OnApplicationShutdown {
  private readonly routes: RouteTable;
  private readonly upstream: UpstreamClient;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(KeyAuthenticator) private readonly auth: KeyAuthenticator,
    @Inject(UsagePublisher) private readonly usage: UsagePublisher,
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
    try {
      const target = normaliseApiPath(request.raw.url ?? '/');
      const match = this.routes.match(request.method, target.path);
      if (!match) throw new ApiError('not_found', 'no such route');
      const presented = this.auth.presentedKey(request.headers);
      if (presented === null) throw new ApiError('missing_api_key', 'send the API key as "Authorization: Bearer …" or "X-API-Key"');
      const { chatbotId, body } = await this.targetOf(match, target.query, request);
      const key = await this.auth.authenticate(presented, chatbotId, request.ip);
      await this.forward(request, reply, target.path + target.query, key, body);
      return reply;
    } catch (error) {
      if (reply.sent || reply.raw.headersSent) return reply;
      // Anything unexpected goes to the gateway's error handling (logged, answered 500 internal_error).
      if (!(error instanceof ApiError)) throw error;
      // The rest of an oversized body is not worth reading: answer, then close.
      if (error.code === 'payload_too_large') reply.header('connection', 'close');
      return sendError(request, reply, error.code, error.message, error.headers);
    }
  }

  /** The chatbot the request targets (null on account routes), and the body when it had to be read for that. */
  private async targetOf(
    match: RouteMatch,
    query: string,
    request: FastifyRequest,
  ): Promise<{ chatbotId: string | null; body: Buffer | null }> {
    const source = match.chatbotIdSource;
    if (source === null) return { chatbotId: null, body: null };
    if (source.from === 'body') {
      const body = await readBody(request.raw, this.config.bodyLimitBytes);
      return { chatbotId: checkedChatbotId(stringField(body, source.name)), body };
    }
    if (source.from === 'path') return { chatbotId: checkedChatbotId(decodeSegment(match.params[source.name])), body: null };
    const values = new URLSearchParams(query).getAll(source.name);
    // Two values could be read differently upstream: refuse rather than pick one.
    if (values.length > 1) throw new ApiError('invalid_request', `the query parameter "${source.name}" is repeated`);
    return { chatbotId: checkedChatbotId(values[0]), body: null };
  }

  private async forward(request: FastifyRequest, reply: FastifyReply, pathAndQuery: string, key: VerifiedKey, body: Buffer | null) {
    await this.upstream.forward(
      {
        method: request.method,
        pathAndQuery,
        headers: upstreamRequestHeaders(request.headers, key, request.id),
        body: body ?? (hasBody(request) ? request.raw : null),
        requestId: request.id,
      },
      reply.raw,
      () => reply.hijack(),
    );
    // Forwarded with a valid key: the one place a request counts as a use of `key` (contract section 7).
    // Refused requests and upstream failures (thrown above) are not uses.
    this.usage.recordUse({ keyId: key.keyId, accountId: key.accountId, chatbotId: key.chatbotId });
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

function checkedChatbotId(chatbotId: string | undefined): string {
  if (chatbotId === undefined || chatbotId === '') throw new ApiError('invalid_request', 'this route needs a chatbot id');
  if (chatbotId.length > MAX_CHATBOT_ID_LENGTH) throw new ApiError('invalid_request', 'the chatbot id is too long');
  return chatbotId;
}
