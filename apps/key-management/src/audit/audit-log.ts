import { Injectable } from '@nestjs/common';
import { classifyApiKey, type Actor, type AuditAction, type AuditActor, type ChangeOrigin } from '@app/contracts';
import { AuditEventEntity } from '../database/entities/index.js';
import type { Tx } from '../database/transactions.js';
import type { ResolvedActor } from '../access/resolved-actor.js';

export const ADMIN_ACTOR: AuditActor = { type: 'admin', id: null };
export const SYSTEM_ACTOR: AuditActor = { type: 'system', id: null };

/** The management caller as the audit log names it: the user, and how they signed in. */
export function auditActor(actor: Actor, resolved: ResolvedActor): AuditActor {
  return { type: 'ssoSubject' in actor ? 'sso' : 'user', id: resolved.userId };
}

export interface AuditEntry {
  action: AuditAction;
  actor: AuditActor;
  /** Request id and client address from the gateway; absent for internal callers. */
  origin: ChangeOrigin | undefined;
  accountId: string;
  chatbotId?: string | null;
  keyId?: string | null;
  details?: Record<string, unknown>;
}

/**
 * Writes audit events. `record` takes the change's own transaction: the event commits
 * with the change or not at all, so neither exists without the other.
 */
@Injectable()
export class AuditLog {
  async record(tx: Tx, entry: AuditEntry): Promise<void> {
    const details = entry.details ?? {};
    refuseSecrets(details);
    await tx.getRepository(AuditEventEntity).insert({
      action: entry.action,
      actorType: entry.actor.type,
      actorId: entry.actor.id,
      accountId: entry.accountId,
      chatbotId: entry.chatbotId ?? null,
      keyId: entry.keyId ?? null,
      requestId: entry.origin?.requestId ?? null,
      ip: entry.origin?.ip ?? null,
      // TypeORM's insert typing does not take a free-form JSON object; the column is jsonb.
      details: details as never,
    });
  }
}

const SECRET_FIELDS = new Set(['key', 'keyhash', 'key_hash', 'token', 'hash', 'sha256']);
const SHA256_HEX = /^[0-9a-f]{64}$/i;

/**
 * A last line of defence: details that would hold a key or a key's hash are a bug in
 * the caller, and must fail its transaction rather than be stored.
 */
function refuseSecrets(value: unknown, path = 'details'): void {
  if (typeof value === 'string') {
    const shape = classifyApiKey(value);
    if (SHA256_HEX.test(value) || shape === 'chatbot' || shape === 'user') {
      throw new Error(`audit ${path} looks like a key or a key hash; refusing to store it`);
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => refuseSecrets(item, `${path}[${index}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [name, inner] of Object.entries(value)) {
      if (SECRET_FIELDS.has(name.toLowerCase())) throw new Error(`audit ${path}.${name} may not be stored`);
      refuseSecrets(inner, `${path}.${name}`);
    }
  }
}
