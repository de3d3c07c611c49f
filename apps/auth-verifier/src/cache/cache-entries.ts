import type { RedisShards } from '@app/common';
import { KeyRecordSchema, PLANS, type KeyRecord, type Plan } from '@app/contracts';
import { MISS, hit, type CacheRead } from './cache-read.js';

/** Stored instead of a value when key-management said there is none (unknown key, deleted chatbot). */
export const NONE = '!none';
const KEY_HASH = /^[0-9a-f]{64}$/;

/** An entry within a shard's generation: a string, or (plans) a field of the shard's plan hash. */
export interface Entry {
  name: string;
  field?: string;
}

/** Entry names within a generation (the prefix, shard tag and generation are added by `CacheNames`). */
export function keyEntry(keyHash: string): Entry {
  if (!KEY_HASH.test(keyHash)) throw new Error('a key record is cached by the key hash only');
  return { name: `key:${keyHash}` };
}

export function plansEntry(): Entry {
  return { name: 'plans' };
}

export function planEntry(accountId: string): Entry {
  return { name: 'plans', field: accountId };
}

export function chatbotEntry(chatbotId: string): Entry {
  return { name: `chatbot:${chatbotId}` };
}

/** Redis names: `<prefix><shard tag>generation`, and `<prefix><shard tag>[g<N>:]<entry>` in generation N. */
export class CacheNames {
  constructor(
    private readonly keyPrefix: string,
    private readonly shards: RedisShards,
  ) {}

  generation(shard: number): string {
    return `${this.keyPrefix}${this.shards.tag(shard)}generation`;
  }

  named(shard: number, generation: string, entry: Entry): string {
    return `${this.keyPrefix}${this.shards.tag(shard)}${generation === '0' ? '' : `g${generation}:`}${entry.name}`;
  }
}

export function decodeEntry<T>(raw: string | null, decode: (raw: string) => T): CacheRead<T> {
  if (raw === null) return MISS;
  if (raw === NONE) return hit<T>(null);
  try {
    return hit(decode(raw));
  } catch {
    // Not something this code wrote (or an older format): ask key-management instead.
    return MISS;
  }
}

export function decodeKeyRecord(raw: string): KeyRecord {
  return KeyRecordSchema.parse(JSON.parse(raw));
}

export function decodePlan(raw: string): Plan {
  if (!(PLANS as readonly string[]).includes(raw)) throw new Error('not a plan');
  return raw as Plan;
}

export function decodeChatbotOwner(raw: string): string {
  return raw;
}
