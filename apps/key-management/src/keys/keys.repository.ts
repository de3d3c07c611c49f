import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type FindOptionsWhere, type Repository } from 'typeorm';
import { ApiKeyEntity, type ApiKeyType } from '../database/entities/api-key.entity.js';
import type { Tx } from '../database/transactions.js';
import { isUniqueViolation } from '../database/unique-violation.js';
import { isUuid } from '../database/uuid.js';
import type { RateLimit } from '@app/contracts';
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
  /** Absent or null: no limit. */
  rateLimit?: RateLimit | null;
}

/** What a PATCH changes: only the fields present. */
export interface KeyChanges {
  name?: string;
  rateLimit?: RateLimit | null;
}

export interface RevokedKey {
  id: string;
  keyHash: string;
  accountId: string;
  chatbotId: string | null;
}

function scopeWhere(scope: KeyScope): FindOptionsWhere<ApiKeyEntity> {
  return 'chatbotId' in scope
    ? { chatbotId: scope.chatbotId, revokedAt: IsNull() }
    : { accountId: scope.userKeysOf, type: 'user', revokedAt: IsNull() };
}

/** Stores hashes only: no method here ever sees a plaintext key. */
@Injectable()
export class KeysRepository {
  constructor(@InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>) {}

  /** An active key by hash; revoked keys are never returned. */
  findActiveByHash(keyHash: string): Promise<ApiKeyEntity | null> {
    return this.keys.findOneBy({ keyHash, revokedAt: IsNull() });
  }

  async insert(tx: Tx, key: NewApiKey): Promise<ApiKeyEntity> {
    const keys = tx.getRepository(ApiKeyEntity);
    try {
      const { rateLimit, ...fields } = key;
      return await keys.save(keys.create({ ...fields, ...rateLimitColumns(rateLimit ?? null), revokedAt: null }));
    } catch (error) {
      if (isUniqueViolation(error, 'api_keys_key_hash_key')) throw new DuplicateKeyHashError();
      throw error;
    }
  }

  countActiveForChatbot(tx: Tx, chatbotId: string): Promise<number> {
    return tx.getRepository(ApiKeyEntity).countBy({ chatbotId, revokedAt: IsNull() });
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
    return tx
      .getRepository(ApiKeyEntity)
      .findOne({ where: { id: keyId, ...scopeWhere(scope) }, lock: { mode: 'pessimistic_write' } });
  }

  async update(tx: Tx, keyId: string, changes: KeyChanges): Promise<void> {
    const columns: Partial<ApiKeyEntity> = {};
    if (changes.name !== undefined) columns.name = changes.name;
    if (changes.rateLimit !== undefined) Object.assign(columns, rateLimitColumns(changes.rateLimit));
    if (Object.keys(columns).length > 0) await tx.getRepository(ApiKeyEntity).update({ id: keyId }, columns);
  }

  /** Revoked keys stay in the table: usage history points at them. */
  async revoke(tx: Tx, keyId: string, at: Date): Promise<void> {
    await tx.getRepository(ApiKeyEntity).update({ id: keyId }, { revokedAt: at });
  }

  /** Revokes every active key of a chatbot and says which ones, so each can be announced. */
  async revokeAllForChatbot(tx: Tx, chatbotId: string, at: Date): Promise<RevokedKey[]> {
    const keys = tx.getRepository(ApiKeyEntity);
    const active = await keys.find({
      select: { id: true, keyHash: true, accountId: true, chatbotId: true },
      where: { chatbotId, revokedAt: IsNull() },
      lock: { mode: 'pessimistic_write' },
    });
    if (active.length) await keys.update({ chatbotId, revokedAt: IsNull() }, { revokedAt: at });
    return active.map(({ id, keyHash, accountId, chatbotId: owner }) => ({ id, keyHash, accountId, chatbotId: owner }));
  }
}
