import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { ERROR_STATUS } from '@app/contracts';

/** What Node could not parse into a request at all, told in the client's terms. */
const MESSAGES: Record<string, string> = {
  HPE_HEADER_OVERFLOW: 'the request headers are too large',
  ERR_HTTP_REQUEST_TIMEOUT: 'the request did not arrive in time',
  ERR_HTTP_HEADERS_TIMEOUT: 'the request headers did not arrive in time',
};

/**
 * Node's `clientError`: bytes that never became a request (a malformed header line, headers over
 * Node's limit, a request too slow to arrive). No route or hook ran, so this is the one place the
 * answer can still have the gateway's error shape and an X-Request-Id; the connection is closed,
 * since what follows on it cannot be framed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const requestId = randomUUID();
    const message = MESSAGES[error.code ?? ''] ?? 'the request could not be parsed';
    const body = JSON.stringify({ error: { code: 'invalid_request', message, requestId } });
    socket.write(
      `HTTP/1.1 ${ERROR_STATUS.invalid_request} Bad Request\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
