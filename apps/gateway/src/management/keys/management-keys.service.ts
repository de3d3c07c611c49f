import { Inject, Injectable } from '@nestjs/common';
import { DEFAULT_KEY_NAME, type Actor, type ChangeOrigin, type KeyView, type CreatedKeyView } from '@app/contracts';
import { KeyManagementClient } from '../../key-management/key-management.client.js';
import { KeyUsageService } from '../usage/key-usage.service.js';
import { issueKey } from '../../keys/key-issuer.js';
import type { CreateKeyBody, UpdateKeyBody } from '../../keys/key-bodies.js';

/** A created key as the caller sees it once: the key object plus the key itself. */

/**
 * The management API's key operations, on behalf of an authenticated actor. `chatbotId`
 * null means the account's user-level keys. key-management decides what the actor may
 * see and do (role, assignments, plan, the 10-key limit) on every call.
 */
@Injectable()
export class ManagementKeysService {
  constructor(
    @Inject(KeyManagementClient) private readonly keyManagement: KeyManagementClient,
    @Inject(KeyUsageService) private readonly usage: KeyUsageService,
  ) {}

  async create(actor: Actor, origin: ChangeOrigin, chatbotId: string | null, body: CreateKeyBody = {}): Promise<CreatedKeyView> {
    const { key, keyHash, prefix } = issueKey(chatbotId === null ? 'user' : 'chatbot');
    const { name, ...limits } = body;
    const view = await this.keyManagement.request('createKey', {
      actor,
      origin,
      chatbotId,
      name: name ?? DEFAULT_KEY_NAME,
      ...limits,
      keyHash,
      prefix,
    });
    return { ...view, key };
  }

  async update(actor: Actor, origin: ChangeOrigin, chatbotId: string | null, keyId: string, changes: UpdateKeyBody): Promise<KeyView> {
    return this.withLastUsed(await this.keyManagement.request('updateKey', { actor, origin, chatbotId, keyId, ...changes }));
  }

  /** The new key is made here, like a created one: key-management sees its hash and prefix only. */
  async roll(actor: Actor, origin: ChangeOrigin, chatbotId: string | null, keyId: string, gracePeriodSeconds = 0): Promise<CreatedKeyView> {
    const { key, keyHash, prefix } = issueKey(chatbotId === null ? 'user' : 'chatbot');
    const view = await this.keyManagement.request('rollKey', { actor, origin, chatbotId, keyId, gracePeriodSeconds, keyHash, prefix });
    return { ...view, key };
  }

  async list(actor: Actor, chatbotId: string | null): Promise<{ data: KeyView[] }> {
    const { data } = await this.keyManagement.request('listKeys', { actor, chatbotId });
    return { data: await this.usage.withLastUsed(data) };
  }

  private async withLastUsed(view: KeyView): Promise<KeyView> {
    const [filled] = await this.usage.withLastUsed([view]);
    return filled;
  }

  async revoke(actor: Actor, origin: ChangeOrigin, chatbotId: string | null, keyId: string): Promise<void> {
    await this.keyManagement.request('revokeKey', { actor, origin, chatbotId, keyId });
  }
}
