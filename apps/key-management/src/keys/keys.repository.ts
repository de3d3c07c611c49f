import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, MoreThan, Or, type FindOptionsWhere, type Repository } from 'typeorm';
import { ApiKeyEntity, type ApiKeyType } from '../database/entities/api-key.entity.js';
import type { Tx } from '../database/transactions.js';
import { isUniqueViolation } from '@app/common';
import { isUuid, type RateLimit } from '@app/contracts';
import { rateLimitColumns } from './key-view.js';

/** A stored key with this hash exists already (active or revoked). */
export class DuplicateKeyHashError extends Error {}

/** Where a management call looks for a key: one chatbot's keys, or an account's user-level keys. */
export type KeyScope = { chatbotId: string } | { userKeysOf: string };

export interface NewApiKey {
  accountId: string;
  chatbotId: string | null;
  type: ApiKeyType;
  userId: string | null;
  createdBy: string;
  name: string;
  prefix: string | null;
  keyHash: string;
  legacy: boolean;
  expiresAt?: Date | null;
  allowedIps?: string[] | null;
  rolledFrom?: string | null;
  /** Absent or null: no limit. */
  rateLimit?: RateLimit | null;
}

/** What a PATCH may change on a key (a rate limit as its two columns, both set or both null). */
export type KeyChanges = Partial<
  Pick<ApiKeyEntity, 'name' | 'expiresAt' | 'enabled' | 'allowedIps' | 'rateLimitRequests' | 'rateLimitWindowSeconds'>
>;

export interface RevokedKey {
  id: string;
  keyHash: string;
  accountId: string;
  chatbotId: string | null;
}

/**
 * "Active" here means not revoked: never revoked, or a roll's grace period still running
 * (revoked_at in the future). Disabled and expired keys are active in this sense: they are
 * listed, can be changed, and count toward a chatbot's 10.
 */
function notRevoked() {
  return Or(IsNull(), MoreThan(new Date()));
}

function scopeWhere(scope: KeyScope): FindOptionsWhere<ApiKeyEntity> {
  return 'chatbotId' in scope
    ? { chatbotId: scope.chatbotId, revokedAt: notRevoked() }
    : { accountId: scope.userKeysOf, type: 'user', revokedAt: notRevoked() };
}

/** Stores hashes only: no method here ever sees a plaintext key. */
@Injectable()
export class KeysRepository {
  constructor(@InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>) {}

  /** An active key by hash (disabled, expired and in-grace keys included); revoked keys are never returned. */
  findActiveByHash(keyHash: string): Promise<ApiKeyEntity | null> {
    return this.keys.findOneBy({ keyHash, revokedAt: notRevoked() });
  }

  async insert(tx: Tx, key: NewApiKey): Promise<ApiKeyEntity> {
    const keys = tx.getRepository(ApiKeyEntity);
    try {
      const { rateLimit, ...fields } = key;
      return await keys.save(
        keys.create({
          expiresAt: null,
          allowedIps: null,
          rolledFrom: null,
          ...fields,
          ...rateLimitColumns(rateLimit ?? null),
          enabled: true,
          revokedAt: null,
        }),
      );
    } catch (error) {
      if (isUniqueViolation(error, 'api_keys_key_hash_key')) throw new DuplicateKeyHashError();
      throw error;
    }
  }

  /** Locks the key with this hash unless it is revoked already (a key in a roll's grace period is not): a leak report revokes it once. */
  lockActiveByHash(tx: Tx, keyHash: string): Promise<ApiKeyEntity | null> {
    return tx.getRepository(ApiKeyEntity).findOne({ where: { keyHash, revokedAt: notRevoked() }, lock: { mode: 'pessimistic_write' } });
  }

  /** Disabled and expired keys count, and so does a rolled key until its grace period ends. */
  countActiveForChatbot(tx: Tx, chatbotId: string): Promise<number> {
    return tx.getRepository(ApiKeyEntity).countBy({ chatbotId, revokedAt: notRevoked() });
  }

  /** Active keys, newest first. */
  listActive(scope: KeyScope): Promise<ApiKeyEntity[]> {
    return this.keys.find({ where: scopeWhere(scope), order: { createdAt: 'DESC', id: 'DESC' } });
  }

  async findActive(keyId: string, scope: KeyScope): Promise<ApiKeyEntity | null> {
    return isUuid(keyId) ? this.keys.findOneBy({ id: keyId, ...scopeWhere(scope) }) : null;
  }

  /** Locks an active key until the transaction ends: a concurrent revoke then finds it revoked. */
  async lockActive(tx: Tx, keyId: string, scope: KeyScope): Promise<ApiKeyEntity | null> {
    if (!isUuid(keyId)) return null;
    return tx.getRepository(ApiKeyEntity).findOne({ where: { id: keyId, ...scopeWhere(scope) }, lock: { mode: 'pessimistic_write' } });
  }

  async rename(tx: Tx, keyId: string, name: string): Promise<void> {
    await tx.getRepository(ApiKeyEntity).update({ id: keyId }, { name });
  }

  async update(tx: Tx, keyId: string, changes: KeyChanges): Promise<void> {
    if (Object.keys(changes).length) await tx.getRepository(ApiKeyEntity).update({ id: keyId }, changes);
  }

  /**
   * Revoked keys stay in the table: usage history points at them. `at` in the future is a
   * roll's grace period: the key works until then.
   */
  async revoke(tx: Tx, keyId: string, at: Date): Promise<void> {
    await tx.getRepository(ApiKeyEntity).update({ id: keyId }, { revokedAt: at });
  }

  /** Revokes every active key of a chatbot and says which ones, so each can be announced. */
  async revokeAllForChatbot(tx: Tx, chatbotId: string, at: Date): Promise<RevokedKey[]> {
    const keys = tx.getRepository(ApiKeyEntity);
    const active = await keys.find({
      select: { id: true, keyHash: true, accountId: true, chatbotId: true },
      where: { chatbotId, revokedAt: notRevoked() },
      lock: { mode: 'pessimistic_write' },
    });
    if (active.length) await keys.update({ chatbotId, revokedAt: notRevoked() }, { revokedAt: at });
    return active.map(({ id, keyHash, accountId, chatbotId: owner }) => ({ id, keyHash, accountId, chatbotId: owner }));
  }
}
