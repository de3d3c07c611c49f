import { ApiError } from '@app/common';

/** Where a page of the audit log ended: the (at, seq) of its last event. */
export interface AuditPosition {
  at: Date;
  seq: string;
}

/** Opaque to callers. */
export function encodeAuditCursor(position: AuditPosition): string {
  return Buffer.from(`${position.at.getTime()}.${position.seq}`).toString('base64url');
}

export function decodeAuditCursor(cursor: string): AuditPosition {
  const [millis, seq, ...rest] = Buffer.from(cursor, 'base64url').toString().split('.');
  const at = new Date(Number(millis));
  if (rest.length || !/^\d{1,15}$/.test(millis ?? '') || !/^\d{1,18}$/.test(seq ?? '') || Number.isNaN(at.getTime())) {
    throw new ApiError('invalid_request', 'cursor: not a cursor this API gave out');
  }
  return { at, seq: seq };
}
