import type { IncomingHttpHeaders } from 'node:http';
import type { Client } from 'undici';

/** One HTTP request of a test, as a client of the gateway sends it. */
export interface HttpRequest {
  method?: string;
  /** Sent byte for byte by an undici `Client`; resolved against the base URL (and normalised) by `fetch`. */
  path: string;
  /** Sent as `authorization: Bearer <key>` when not empty. */
  key?: string;
  headers?: Record<string, string | string[]>;
  /** Sent as is. */
  body?: string | Buffer;
  /** Sent JSON-encoded (a string is taken as already encoded), with `content-type: application/json` unless `headers` name one. */
  json?: unknown;
}

/** The answer as text and, when that text parses, as JSON (`undefined` otherwise, the empty body included). */
export interface HttpAnswer<H> {
  status: number;
  headers: H;
  text: string;
  json: any;
}

/**
 * Sends `request` through an undici `Client` (the path as given, no client-side URL
 * normalisation), or with `fetch` to a base URL such as `http://127.0.0.1:3000`.
 */
export function httpRequest(via: Client, request: HttpRequest): Promise<HttpAnswer<IncomingHttpHeaders>>;
export function httpRequest(via: string, request: HttpRequest): Promise<HttpAnswer<Headers>>;
export async function httpRequest(via: Client | string, request: HttpRequest): Promise<HttpAnswer<IncomingHttpHeaders | Headers>> {
  const method = request.method ?? 'GET';
  const headers: Record<string, string | string[]> = { ...request.headers };
  if (request.key) headers.authorization = `Bearer ${request.key}`;
  let body = request.body;
  if (request.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof request.json === 'string' ? request.json : JSON.stringify(request.json);
  }
  if (typeof via === 'string') {
    const fetchHeaders = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      for (const one of Array.isArray(value) ? value : [value]) fetchHeaders.append(name, one);
    }
    const response = await fetch(via + request.path, { method, headers: fetchHeaders, body });
    return answerOf(response.status, response.headers, await response.text());
  }
  const response = await via.request({ method: method, path: request.path, headers, body });
  return answerOf(response.statusCode, response.headers as IncomingHttpHeaders, await response.body.text());
}

function answerOf<H>(status: number, headers: H, text: string): HttpAnswer<H> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, headers, text, json };
}
