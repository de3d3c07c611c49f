import { isUuid } from '@app/contracts';
import { ApiError } from '@app/common';

/** Opaque to callers: the (created_at, id) position of the last chatbot of a page. */
export function encodeListingCursor(position: { createdAt: Date; id: string }): string {
  return Buffer.from(`${position.createdAt.getTime()}.${position.id}`).toString('base64url');
}

export function decodeListingCursor(cursor: string): { createdAt: Date; id: string } {
  const [millis, id, ...rest] = Buffer.from(cursor, 'base64url').toString().split('.');
  const createdAt = new Date(Number(millis));
  if (rest.length || !/^\d{1,15}$/.test(millis ?? '') || !isUuid(id ?? '') || Number.isNaN(createdAt.getTime())) {
    throw new ApiError('invalid_request', 'cursor: not a cursor this API gave out');
  }
  return { createdAt, id: id };
}
