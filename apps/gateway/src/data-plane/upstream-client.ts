import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { ApiError, registeredMetric } from '@app/common';
import { Counter } from 'prom-client';
import { clientResponseHeaders } from './forwarded-headers.js';

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

const upstreamFailures = registeredMetric(
  'gateway_upstream_failures_total',
  () =>
    new Counter({
      name: 'gateway_upstream_failures_total',
      help: 'Forwarded requests the upstream did not answer: unavailable (refused, reset) or timeout',
      labelNames: ['reason'] as const,
    }),
);
const unavailable = upstreamFailures.labels('unavailable');
const timedOut = upstreamFailures.labels('timeout');

export interface UpstreamOptions {
  url: string;
  connections: number;
  timeoutMs: number;
}

export interface UpstreamRequest {
  method: string;
  /** Normalised path plus the query exactly as sent. */
  pathAndQuery: string;
  headers: Record<string, string | string[]>;
  /** The exact bytes read, the client's stream unread, or nothing. */
  body: Buffer | IncomingMessage | null;
  requestId: string;
}

/** What `forward` resolves with: the upstream's status, or null when the client went away first. */
export type ForwardOutcome = number | null;

/** A keep-alive pool to the chatbot upstream; answers are relayed as they arrive (SSE chunk by chunk). */
export class UpstreamClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly timeoutMs: number;

  constructor(options: UpstreamOptions) {
    this.timeoutMs = options.timeoutMs;
    const url = new URL(options.url);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      headersTimeout: options.timeoutMs,
      // Between two chunks of the answer: an SSE stream may last long, but not fall silent.
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.timeoutMs },
    });
  }

  /**
   * Sends the request and, once the upstream answers, takes over the raw response: status and
   * headers unchanged (minus hop-by-hop), body relayed chunk by chunk with backpressure. Before an
   * answer, failures reject with `502 upstream_unavailable` or `504 upstream_timeout`; after it, a
   * broken stream is cut. Resolves with the upstream's status, or null when the client went away first.
   *
   * A dispatch handler writes straight into the client's response: no body stream, no pipeline and no
   * AbortController per request (the profile showed those, DOMException included, on the hot path).
   */
  forward(request: UpstreamRequest, response: ServerResponse, takeOver: () => void): Promise<ForwardOutcome> {
    return new Promise((resolve, reject) => {
      const relay = new Relay(request.requestId, response, takeOver, resolve, reject, this.timeoutMs);
      this.pool.dispatch(
        {
          method: request.method,
          path: this.basePath + request.pathAndQuery,
          headers: request.headers,
          body: request.body,
        },
        relay,
      );
    });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

class ClientGoneError extends Error {
  constructor() {
    super('the client went away');
  }
}

/** One forwarded request: relays the upstream's answer into the client's response. */
class Relay implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private answered = false;
  private done = false;
  private clientGone = false;
  private timedOut = false;
  private readonly deadline: NodeJS.Timeout;

  constructor(
    private readonly requestId: string,
    private readonly response: ServerResponse,
    private readonly takeOver: () => void,
    private readonly resolve: (outcome: ForwardOutcome) => void,
    private readonly reject: (error: ApiError) => void,
    timeoutMs: number,
  ) {
    // `close` also follows a normal end; by then `done` is set and nothing happens.
    response.once('close', () => this.onClientClose());
    // undici's own timeouts start once the request is on a socket; this one starts now, so that
    // behind a hung upstream requests do not queue for a free connection without bound.
    this.deadline = setTimeout(() => this.onDeadline(), timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.clientGone || this.timedOut) controller.abort(new ClientGoneError());
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (this.timedOut) return controller.abort(new ClientGoneError());
    // Informational answers (100 Continue, 103 Early Hints) are not relayed; the final one follows.
    if (statusCode < 200) return;
    clearTimeout(this.deadline);
    this.answered = true;
    this.takeOver();
    const relayed = clientResponseHeaders(headers, this.requestId);
    // A limited key's RateLimit fields are the gateway's word: the upstream's same-named ones do not replace them.
    if (this.response.hasHeader('ratelimit')) {
      delete relayed.ratelimit;
      delete relayed['ratelimit-policy'];
    }
    this.response.writeHead(statusCode, relayed);
    this.resolve(statusCode);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.response.write(chunk)) return;
    controller.pause();
    this.response.once('drain', () => controller.resume());
  }

  onResponseEnd(): void {
    this.done = true;
    this.response.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.done = true;
    clearTimeout(this.deadline);
    // Already answered 504 at the deadline.
    if (this.timedOut) return;
    if (this.answered) {
      // Mid-stream: the client sees a cut connection rather than a truncated answer passed off as whole.
      this.response.destroy();
      return;
    }
    if (this.clientGone || error instanceof ClientGoneError) {
      this.takeOver();
      this.resolve(null);
      return;
    }
    this.reject(upstreamError(error));
  }

  private onDeadline(): void {
    if (this.answered || this.done) return;
    this.timedOut = true;
    this.reject(upstreamError({ code: 'UND_ERR_HEADERS_TIMEOUT' }));
    this.controller?.abort(new ClientGoneError());
  }

  private onClientClose(): void {
    if (this.done) return;
    this.clientGone = true;
    this.controller?.abort(new ClientGoneError());
  }
}

function upstreamError(error: unknown): ApiError {
  const code = (error as { code?: string } | null)?.code;
  if (code !== undefined && TIMEOUTS.has(code)) {
    timedOut.inc();
    return new ApiError('upstream_timeout', 'the chatbot upstream did not answer in time');
  }
  unavailable.inc();
  return new ApiError('upstream_unavailable', 'the chatbot upstream is unavailable');
}
