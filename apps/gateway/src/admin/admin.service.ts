import { Inject, Injectable } from '@nestjs/common';
import { DEFAULT_KEY_NAME, displayPrefix, hashApiKey, type ChangeOrigin, type KeyView, type CreatedKeyView } from '@app/contracts';
import { KeyManagementClient } from '../key-management/key-management.client.js';
import { issueKey } from '../keys/key-issuer.js';
import type { ImportLegacyKeyBody } from './dto/admin-bodies.js';

/**
 * The admin operations that need more than forwarding a body: keys are made or hashed
 * here, so no plaintext key ever crosses the bus.
 */
@Injectable()
export class AdminService {
  constructor(@Inject(KeyManagementClient) private readonly keyManagement: KeyManagementClient) {}

  async createUserKey(userId: string, origin: ChangeOrigin, name: string | undefined): Promise<CreatedKeyView> {
    const { key, keyHash, prefix } = issueKey('user');
    const view = await this.keyManagement.request('adminCreateUserKey', {
      userId,
      origin,
      name: name ?? DEFAULT_KEY_NAME,
      keyHash,
      prefix,
    });
    return { ...view, key };
  }

  /** The answer is the key object only: an imported key is the holder's already. */
  importLegacyKey(userId: string, origin: ChangeOrigin, body: ImportLegacyKeyBody): Promise<KeyView> {
    const imported =
      'key' in body
        ? { keyHash: hashApiKey(body.key), prefix: displayPrefix(body.key) }
        : { keyHash: body.sha256.toLowerCase(), prefix: null };
    return this.keyManagement.request('adminImportLegacyKey', { userId, origin, ...imported });
  }
}
