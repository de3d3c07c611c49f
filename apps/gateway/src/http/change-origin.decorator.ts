import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ChangeOrigin } from '@app/contracts';
import { clientAddress } from './client-address.js';

const MAX_ADDRESS_LENGTH = 64;

/** Where a change came from, for its audit event: the request id answered and the real client address. */
export function changeOriginOf(request: FastifyRequest): ChangeOrigin {
  const ip = clientAddress(request);
  return { requestId: request.id, ip: ip ? ip.slice(0, MAX_ADDRESS_LENGTH) : null };
}

export const ChangeOriginOf = createParamDecorator((_data: unknown, context: ExecutionContext): ChangeOrigin =>
  changeOriginOf(context.switchToHttp().getRequest<FastifyRequest>()),
);
