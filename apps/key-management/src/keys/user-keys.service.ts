import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import type { AdminCreateUserKey, AdminImportLegacyKey, ChangeOrigin, KeyView } from '@app/contracts';
import { ADMIN_ACTOR, AuditLog } from '../audit/audit-log.js';
import { Transactions } from '../database/transactions.js';
import type { UserEntity } from '../database/entities/index.js';
import { EventPublisher } from '../events/event-publisher.js';
import { UsersRepository } from '../users/users.repository.js';
import { DuplicateKeyHashError, KeysRepository, type NewApiKey } from './keys.repository.js';
import { toKeyView } from './key-view.js';

const LEGACY_KEY_NAME = 'Imported key';

/** User-level keys provisioned through the admin API, for owners and admins only. */
@Injectable()
export class UserKeysService {
  constructor(
    @Inject(UsersRepository) private readonly users: UsersRepository,
    @Inject(KeysRepository) private readonly keys: KeysRepository,
    @Inject(Transactions) private readonly transactions: Transactions,
    @Inject(EventPublisher) private readonly events: EventPublisher,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async create(request: AdminCreateUserKey): Promise<KeyView> {
    const holder = await this.requireKeyHolder(request.userId);
    return this.store(holder, { name: request.name, prefix: request.prefix, keyHash: request.keyHash, legacy: false }, request.origin);
  }

  /** An existing key from the platform's previous system keeps working unchanged: only its hash comes in. */
  async importLegacy(request: AdminImportLegacyKey): Promise<KeyView> {
    const holder = await this.requireKeyHolder(request.userId);
    return this.store(holder, { name: LEGACY_KEY_NAME, prefix: request.prefix, keyHash: request.keyHash, legacy: true }, request.origin);
  }

  private async requireKeyHolder(userId: string): Promise<UserEntity> {
    const user = await this.users.findById(userId);
    if (!user) throw new ApiError('user_not_found', 'no such user');
    if (user.role === 'member') throw new ApiError('forbidden', 'only owners and admins hold user-level keys');
    return user;
  }

  private async store(
    holder: UserEntity,
    fields: Pick<NewApiKey, 'name' | 'prefix' | 'keyHash' | 'legacy'>,
    origin: ChangeOrigin | undefined,
  ): Promise<KeyView> {
    const key = await this.transactions
      .run(async (tx) => {
        const key = await this.keys.insert(tx, {
          ...fields,
          type: 'user',
          accountId: holder.accountId,
          chatbotId: null,
          userId: holder.id,
          createdBy: holder.id,
        });
        await this.audit.record(tx, {
          action: fields.legacy ? 'key.imported' : 'key.created',
          actor: ADMIN_ACTOR,
          origin,
          accountId: key.accountId,
          keyId: key.id,
          details: { type: key.type, name: key.name, userId: holder.id },
        });
        return key;
      })
      .catch((error: unknown) => {
        if (error instanceof DuplicateKeyHashError) throw new ApiError('conflict', 'a key with this hash exists');
        throw error;
      });
    this.events.publish('keyCreated', { keyId: key.id, keyHash: key.keyHash, accountId: key.accountId });
    return toKeyView(key);
  }
}
