import type { IncomingMessage } from 'node:http';
import { ApiError } from '@app/common';

const utf8 = new TextDecoder('utf-8', { fatal: true });

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
  try {
    json = JSON.parse(utf8.decode(body));
  } catch {
    throw new ApiError('invalid_request', 'the request body is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ApiError('invalid_request', 'the request body must be a JSON object');
  }
  const value = Object.hasOwn(json, name) ? (json as Record<string, unknown>)[name] : undefined;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ApiError('invalid_request', `"${name}" must be a string`);
  return value;
}

function tooLarge(): ApiError {
  return new ApiError('payload_too_large', 'the request body is too large');
}
