import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

/**
 * TLS options for a Redis client. `rediss://` alone trusts the system's root CAs (enough for
 * most managed services); REDIS_CA_FILE adds a private CA, e.g. ElastiCache or Memorystore
 * server CAs, which a `redis://` URL could not use: that combination is refused at start.
 * The same holds for a cluster: `rediss+cluster://` is TLS to every node.
 */
export function redisTlsOptions(url: string, caFile: string | undefined): { tls?: ConnectionOptions } {
  if (!caFile) return {};
  if (!isTlsRedisUrl(url)) throw new Error('REDIS_CA_FILE needs a rediss:// REDIS_URL (TLS)');
  try {
    return { tls: { ca: readFileSync(caFile, 'utf8') } };
  } catch (error) {
    throw new Error(`cannot read REDIS_CA_FILE ${caFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}

/** `rediss://` or `rediss+cluster://`. */
export function isTlsRedisUrl(url: string): boolean {
  return ['rediss:', 'rediss+cluster:'].includes(new URL(url).protocol);
}
