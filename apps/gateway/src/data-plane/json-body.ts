import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { ApiError } from '@app/common';
import { namesField } from './field-names.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `application/json`, with no parameter but an optional `charset=utf-8` (any case, quoted or not). */
const JSON_MEDIA_TYPE = /^application\/json[ \t]*(?:;[ \t]*charset[ \t]*=[ \t]*(?:utf-8|"utf-8")[ \t]*)?$/i;

/**
 * A body the gateway judges must be read the same way by the upstream: UTF-8 JSON as sent. A form,
 * multipart or UTF-16 body, or a compressed one, could carry another chatbot id in the same bytes.
 */
export function requireJsonBody(headers: IncomingHttpHeaders): void {
  const type = headers['content-type'];
  if (type !== 'application/json' && (type === undefined || !JSON_MEDIA_TYPE.test(type))) {
    throw new ApiError('unsupported_media_type', 'the request body must be "application/json" (UTF-8)');
  }
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new ApiError('unsupported_media_type', 'the request body must not be encoded (Content-Encoding)');
  }
}

/**
 * Reads a request body whose JSON the route needs (the chatbot id is in it), up to `limit`
 * bytes. The exact bytes are returned for forwarding: the upstream sees what was judged.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) return void chunks.push(chunk);
      // Stop collecting but keep the socket: the 413 still has to be answered.
      request.off('data', onData);
      request.resume();
      reject(tooLarge());
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks, length)));
    request.once('error', reject);
  });
}

/**
 * The string field `name` of a JSON object body: undefined when absent; 400 when the
 * body is not JSON (or not UTF-8) or the field is not a string.
 */
export function stringField(body: Buffer, name: string): string | undefined {
  if (body.length === 0) return undefined;
  let json: unknown;
  let text: string;
  try {
    text = utf8.decode(body);
    json = JSON.parse(text);
  } catch {
    throw new ApiError('invalid_request', 'the request body is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ApiError('invalid_request', 'the request body must be a JSON object');
  }
  // Go's encoding/json and ASP.NET Core bind `ChatbotId` to `chatbotId`: another spelling of the field is refused.
  for (const member in json) {
    if (member !== name && namesField(member, name))
      throw new ApiError('invalid_request', `"${member}" is read as "${name}" by some servers`);
  }
  if (!Object.hasOwn(json, name)) return undefined;
  // JSON.parse keeps the last duplicate, some upstream parsers the first: refuse rather than pick one.
  if (topLevelKeyCount(text, name) > 1) throw new ApiError('invalid_request', `"${name}" is repeated`);
  const value = (json as Record<string, unknown>)[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ApiError('invalid_request', `"${name}" must be a string`);
  return value;
}

function tooLarge(): ApiError {
  return new ApiError('payload_too_large', 'the request body is too large');
}

/** How often `name` is a key of the top-level object of `text` (valid JSON), escaped spellings included. */
function topLevelKeyCount(text: string, name: string): number {
  const plain = JSON.stringify(name);
  // Common case, no scan: without escapes a second occurrence would have to be spelled plainly.
  if (!text.includes('\\') && text.indexOf(plain) === text.lastIndexOf(plain)) return 1;
  let count = 0;
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '{' || char === '[') {
      depth++;
      expectKey = depth === 1 && char === '{';
    } else if (char === '}' || char === ']') depth--;
    else if (char === ',' && depth === 1) expectKey = true;
    else if (char === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (expectKey && JSON.parse(text.slice(i, end + 1)) === name) count++;
      expectKey = false;
      i = end;
    }
  }
  return count;
}
