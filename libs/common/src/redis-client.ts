import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { redisTlsOptions } from './redis-tls.js';

/** One Redis or a Redis Cluster: both run the same commands, scripts and pipelines (a pipeline within one slot). */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** `redis://` or `rediss://` (TLS) for one Redis; `redis+cluster://` or `rediss+cluster://` for a cluster. */
  url: string;
  /** REDIS_CA_FILE: a private CA for a rediss:// URL. */
  caFile?: string;
  commandTimeoutMs: number;
}

const RECONNECT = (attempt: number) => Math.min(attempt * 100, 2_000);

/**
 * The Redis client, tuned so that a dead Redis costs its caller only what Redis adds (a cache
 * miss, a rate limit counted per replica): commands fail at once while disconnected (no offline
 * queue, no retries) and after `commandTimeoutMs` when Redis hangs, while the client keeps reconnecting.
 * On a cluster the same holds per node: a command for a node that is down fails at once
 * (no waiting for a failover), and the other nodes' slots keep working.
 */
export function createRedisClient(options: RedisClientOptions, logger: Logger): RedisClient {
  const failFast: RedisOptions = {
    ...redisTlsOptions(options.url, options.caFile),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: 1_000,
  };
  const cluster = clusterSeed(options.url);
  const client: RedisClient = cluster
    ? new Cluster([{ host: cluster.host, port: cluster.port }], {
        redisOptions: {
          ...failFast,
          username: cluster.username,
          password: cluster.password,
          tls: cluster.tls ? (failFast.tls ?? {}) : undefined,
        },
        enableOfflineQueue: false,
        // A node that went away is reconnected (its slots answer again once it is back) instead of
        // dropped until a redirection names it again.
        clusterNodeRetryStrategy: RECONNECT,
        clusterRetryStrategy: RECONNECT,
        retryDelayOnFailover: 0,
        retryDelayOnClusterDown: 0,
        retryDelayOnTryAgain: 0,
        maxRedirections: 4,
        slotsRefreshTimeout: 1_000,
        // Node names as the cluster announces them: a TLS certificate names the host, not its address.
        dnsLookup: (address, callback) => callback(null, address),
      })
    : new Redis(options.url, { ...failFast, retryStrategy: RECONNECT });
  const connectionErrors = new RateLimitedLog(logger);
  const warn = (error: Error) => connectionErrors.warn({ reason: error.message }, 'Redis connection error');
  client.on('error', warn);
  if (client instanceof Cluster) {
    client.on('node error', warn);
    // ioredis connects to a node on its first command, which (no offline queue) would fail: every
    // node is connected as soon as the cluster names it instead.
    client.on('+node', (node: Redis) => {
      if (node.status === 'wait') node.connect().catch(() => undefined);
    });
  }
  return client;
}

/**
 * Calls `listener` whenever a connection (to the one Redis, or to any node of a cluster) has
 * become ready again: the moment to replay writes that failed while it was away.
 */
export function onRedisReady(client: RedisClient, listener: () => void): void {
  if (client instanceof Cluster) client.on('+node', (node: Redis) => node.on('ready', listener));
  else client.on('ready', listener);
}

/** What is wrong with a cluster URL, or null (also null for a URL that names no cluster). */
export function redisClusterUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL at all: the URL check reports that.
    return null;
  }
  if (!CLUSTER_PROTOCOLS.includes(parsed.protocol)) return null;
  if (!parsed.hostname) return 'a Redis Cluster URL needs a host';
  if (parsed.pathname !== '' && parsed.pathname !== '/') return 'a Redis Cluster has no database number: drop the path';
  if (parsed.search || parsed.hash) return 'a Redis Cluster URL takes no query or fragment';
  return null;
}

interface ClusterSeed {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls: boolean;
}

const CLUSTER_PROTOCOLS = ['redis+cluster:', 'rediss+cluster:'];

/** Whether a URL names a Redis Cluster (`redis+cluster://` or `rediss+cluster://`). */
export function isRedisClusterUrl(url: string): boolean {
  return CLUSTER_PROTOCOLS.includes(new URL(url).protocol);
}

/**
 * A cluster URL names one node to discover the others from (a managed cluster's configuration or
 * discovery endpoint, or any node); credentials and TLS apply to every node. A cluster has one
 * database: a database number in the path is refused.
 */
function clusterSeed(url: string): ClusterSeed | null {
  const parsed = new URL(url);
  if (!CLUSTER_PROTOCOLS.includes(parsed.protocol)) return null;
  const problem = redisClusterUrlProblem(url);
  if (problem) throw new Error(problem);
  return {
    // IPv6 hosts come bracketed.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    tls: parsed.protocol === 'rediss+cluster:',
  };
}
