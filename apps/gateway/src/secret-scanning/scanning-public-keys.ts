import { readFile } from 'node:fs/promises';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';

const FETCH_TIMEOUT_MS = 5_000;
const MAX_DOCUMENT_BYTES = 256 * 1024;

/** GitHub's format: `{"public_keys":[{"key_identifier","key" (PEM),"is_current"}]}`. */
const KeysDocumentSchema = z.object({
  public_keys: z
    .array(z.object({ key_identifier: z.string().min(1).max(512), key: z.string().min(1).max(8192), is_current: z.boolean().optional() }))
    .max(100),
});

export type KeysSource = { file: string } | { url: string };

/**
 * The public keys leak reports are signed with, by identifier. Loaded on first use and again
 * when a report names an identifier not held (GitHub rotates keys), but never more often than
 * once per cooldown, so reports naming made-up identifiers cannot make us hammer the source.
 * Every listed key is accepted, current or not: a report signed just before a rotation still verifies.
 */
export class ScanningPublicKeys {
  private keys = new Map<string, KeyObject>();
  private loadedAt: number | null = null;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly source: KeysSource,
    private readonly cooldownMs: number,
    private readonly onLoadFailure: (error: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key, or null when the source does not list it (or cannot be read and never could). */
  async find(identifier: string): Promise<KeyObject | null> {
    const held = this.keys.get(identifier);
    if (held) return held;
    // A load in flight answers every lookup waiting on it, whether or not the cooldown allows another.
    if (this.loading) await this.loading;
    else if (this.loadedAt === null || this.now() - this.loadedAt >= this.cooldownMs) await this.reload();
    return this.keys.get(identifier) ?? null;
  }

  /** True once keys were loaded at least once: until then a report cannot be judged at all. */
  get available(): boolean {
    return this.keys.size > 0;
  }

  private reload(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    this.loadedAt = this.now();
    try {
      this.keys = parseKeys(await this.read());
    } catch (error) {
      // Keep the keys we had: a source that is briefly down must not turn every report away.
      this.onLoadFailure(error);
    }
  }

  private async read(): Promise<string> {
    if ('file' in this.source) return readFile(this.source.file, 'utf8');
    const response = await fetch(this.source.url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
    if (!response.ok) throw new Error(`${this.source.url} answered ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`${this.source.url}: the key document is over ${MAX_DOCUMENT_BYTES} bytes`);
    return text;
  }
}

function parseKeys(text: string): Map<string, KeyObject> {
  const document = KeysDocumentSchema.parse(JSON.parse(text));
  const keys = new Map<string, KeyObject>();
  for (const entry of document.public_keys) {
    const key = createPublicKey(entry.key);
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error(`key ${entry.key_identifier} is not an ECDSA P-256 public key`);
    }
    keys.set(entry.key_identifier, key);
  }
  return keys;
}
