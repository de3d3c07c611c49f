import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BusUnavailableError, LOGGER, type Logger } from '@app/common';
import { sendError, toApiError } from './error-response.js';
import { clientAddress } from './client-address.js';

/** Every error from a Nest route leaves in the contract's JSON shape. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost) {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (exception instanceof BusUnavailableError) {
      this.logger.warn(
        { requestId: request.id, client: clientAddress(request), subject: exception.subject },
        'key-management did not answer',
      );
      return sendError(request, reply, 'service_unavailable', 'the service is temporarily unavailable', { 'Retry-After': '1' });
    }
    const error = toApiError(exception);
    if (error.status >= 500) this.logger.error({ err: exception, requestId: request.id, client: clientAddress(request) }, 'request failed');
    return sendError(request, reply, error.code, error.message, error.headers);
  }
}
