import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_STATUS, type ErrorCode } from '@app/contracts';
import { ApiError } from '@app/common';

/** The one error shape the gateway answers: `{"error":{"code","message","requestId"}}`. */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): FastifyReply {
  return reply
    .code(ERROR_STATUS[code])
    .headers(headers)
    .type('application/json; charset=utf-8')
    .send({ error: { code, message, requestId: request.id } });
}

/** Maps whatever was thrown (ours, Fastify's, Nest's) to a contract error. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const { statusCode, code, status } = (error ?? {}) as { statusCode?: number; code?: string; status?: number };
  const httpStatus = statusCode ?? status;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || httpStatus === 413)
    return new ApiError('payload_too_large', 'the request body is too large');
  if (httpStatus === 415) return new ApiError('unsupported_media_type', 'the request body must be "application/json" (UTF-8)');
  if (httpStatus === 404) return new ApiError('not_found', 'no such route');
  if (httpStatus === 405) return new ApiError('not_found', 'no such route');
  if (httpStatus !== undefined && httpStatus >= 400 && httpStatus < 500) {
    return new ApiError('invalid_request', error instanceof Error ? error.message : 'the request is malformed');
  }
  return new ApiError('internal_error', 'something went wrong');
}
