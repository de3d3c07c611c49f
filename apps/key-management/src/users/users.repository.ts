import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { isUuid, type Role } from '@app/contracts';
import { UserChatbotEntity, UserEntity } from '../database/entities/index.js';
import type { Tx } from '../database/transactions.js';
import { isUniqueViolation } from '@app/common';

/** Another user already has this SSO subject. */
export class DuplicateSsoSubjectError extends Error {}

@Injectable()
export class UsersRepository {
  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    @InjectRepository(UserChatbotEntity) private readonly assignments: Repository<UserChatbotEntity>,
  ) {}

  async create(tx: Tx, fields: { accountId: string; email: string; role: Role; ssoSubject: string | null }): Promise<UserEntity> {
    const users = tx.getRepository(UserEntity);
    try {
      return await users.save(users.create(fields));
    } catch (error) {
      if (isUniqueViolation(error, 'users_sso_subject_key')) throw new DuplicateSsoSubjectError();
      throw error;
    }
  }

  async findById(id: string): Promise<UserEntity | null> {
    return isUuid(id) ? this.users.findOneBy({ id }) : null;
  }

  findBySsoSubject(ssoSubject: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ ssoSubject });
  }

  /** Locks the user row, so that concurrent assignment changes apply one after another. */
  async lockById(tx: Tx, id: string): Promise<UserEntity | null> {
    if (!isUuid(id)) return null;
    return tx.getRepository(UserEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  async replaceAssignments(tx: Tx, userId: string, chatbotIds: string[]): Promise<void> {
    const assignments = tx.getRepository(UserChatbotEntity);
    await assignments.delete({ userId });
    if (chatbotIds.length) await assignments.insert(chatbotIds.map((chatbotId) => ({ userId, chatbotId })));
  }

  async assignedChatbotIds(tx: Tx, userId: string): Promise<string[]> {
    const rows = await tx
      .getRepository(UserChatbotEntity)
      .find({ select: { chatbotId: true }, where: { userId }, order: { chatbotId: 'ASC' } });
    return rows.map((row) => row.chatbotId);
  }

  isAssigned(userId: string, chatbotId: string): Promise<boolean> {
    return this.assignments.existsBy({ userId, chatbotId });
  }
}
