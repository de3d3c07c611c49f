import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { ApiError } from '@app/common';
import { Counter, register } from 'prom-client';
import { clientResponseHeaders } from './forwarded-headers.js';

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

const upstreamFailures =
  (register.getSingleMetric('gateway_upstream_failures_total') as Counter<'reason'> | undefined) ??
  new Counter({
    name: 'gateway_upstream_failures_total',
    help: 'Forwarded requests the upstream did not answer: unavailable (refused, reset) or timeout',
    labelNames: ['reason'] as const,
  });

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

/** A keep-alive pool to the chatbot upstream; answers are relayed as they arrive (SSE chunk by chunk). */
export class UpstreamClient {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(options: UpstreamOptions) {
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
   * headers unchanged (minus hop-by-hop), body piped through. Before an answer, failures throw
   * `502 upstream_unavailable` or `504 upstream_timeout`; after it, a broken stream is cut.
   * Resolves false when the client went away first (nothing to answer).
   */
  async forward(request: UpstreamRequest, response: ServerResponse, takeOver: () => void): Promise<boolean> {
    const abort = new AbortController();
    const onClientGone = () => abort.abort();
    response.once('close', onClientGone);
    let answer: Dispatcher.ResponseData;
    try {
      answer = await this.pool.request({
        method: request.method as Dispatcher.HttpMethod,
        path: this.basePath + request.pathAndQuery,
        headers: request.headers,
        body: request.body,
        signal: abort.signal,
      });
    } catch (error) {
      if (abort.signal.aborted) {
        takeOver();
        return false;
      }
      throw upstreamError(error);
    } finally {
      response.off('close', onClientGone);
    }
    takeOver();
    response.writeHead(answer.statusCode, clientResponseHeaders(answer.headers, request.requestId));
    // A client that leaves mid-stream destroys `response`, and pipeline then aborts the upstream request.
    pipeline(answer.body, response, () => undefined);
    return true;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

function upstreamError(error: unknown): ApiError {
  const code = (error as { code?: string } | null)?.code;
  if (code !== undefined && TIMEOUTS.has(code)) {
    upstreamFailures.inc({ reason: 'timeout' });
    return new ApiError('upstream_timeout', 'the chatbot upstream did not answer in time');
  }
  upstreamFailures.inc({ reason: 'unavailable' });
  return new ApiError('upstream_unavailable', 'the chatbot upstream is unavailable');
}
