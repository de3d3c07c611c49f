import { z } from 'zod';
import {
  BaseEnvSchema,
  baseConfig,
  env,
  loadConfig,
  redisCaNeedsTls,
  RedisEnvSchema,
  redisSettings,
  type BaseConfig,
  type RedisSettings,
} from '@app/common';
import type { IpRanges } from '@app/contracts';

const GatewayEnvSchema = BaseEnvSchema.extend({
  GATEWAY_PORT: env.port(8080),
  GATEWAY_METRICS_PORT: env.port(8084),
  TRUSTED_PROXIES: env.ipRanges(),
  UPSTREAM_URL: env.url('http://127.0.0.1:8090', ['http:', 'https:']),
  ADMIN_TOKEN: env.optionalString().pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  BODY_LIMIT_BYTES: env.positiveInt(10 * 1024 * 1024),
  MANAGEMENT_BODY_LIMIT_BYTES: env.positiveInt(1024 * 1024),
  HTTP_HEADERS_TIMEOUT_MS: env.positiveInt(10_000),
  HTTP_REQUEST_TIMEOUT_MS: env.positiveInt(60_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: env.positiveInt(72_000),
  HTTP_MAX_REQUESTS_PER_SOCKET: env.positiveInt(10_000),
  ROUTES_FILE: env.optionalString(),
  UPSTREAM_TIMEOUT_MS: env.positiveInt(30_000),
  UPSTREAM_CONNECTIONS: env.positiveInt(128),
  VERIFY_TIMEOUT_MS: env.positiveInt(2_000),
  AUTH_CACHE_MAX_ENTRIES: env.positiveInt(100_000),
  AUTH_CACHE_TTL_MS: env.positiveInt(30_000),
  AUTH_NEGATIVE_CACHE_TTL_MS: env.positiveInt(5_000),
  SSO_JWKS_URL: env.optionalString().pipe(
    z
      .url({ protocol: /^https?$/ })
      // Keys fetched in clear text could be swapped on the way, and every token they sign accepted.
      .refine(
        (url) => new URL(url).protocol === 'https:' || isLoopback(new URL(url).hostname),
        'must be https: (http: only on a loopback address)',
      )
      .optional(),
  ),
  SSO_JWKS_FILE: env.optionalString(),
  SSO_ISSUER: env.optionalString(),
  SSO_AUDIENCE: env.optionalString(),
  SSO_HS256_SECRET: env.optionalString().pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  SSO_CLOCK_SKEW_SECONDS: env.positiveInt(30),
  SSO_JWKS_COOLDOWN_MS: env.positiveInt(30_000),
  USAGE_STREAM_REPLICAS: env.positiveInt(1).pipe(z.number().max(5)),
  SHUTDOWN_GRACE_MS: env.positiveInt(20_000),
  SSO_OIDC_ISSUER: env.optionalString().pipe(z.url({ protocol: /^https?$/ }).optional()),
  SSO_OIDC_CLIENT_ID: env.optionalString().pipe(z.string().max(255).optional()),
  CONSOLE_DIR: env.optionalString(),
  SECRET_SCANNING_KEYS_FILE: env.optionalString(),
  SECRET_SCANNING_KEYS_URL: env.optionalString().pipe(z.url({ protocol: /^https?$/ }).optional()),
  SECRET_SCANNING_KEYS_COOLDOWN_MS: env.positiveInt(60_000),
  /** Where replicas share per-key rate-limit counts; without it each replica limits on its own. */
  ...RedisEnvSchema.shape,
  /** How often rate-limit counts are exchanged with the other replicas (through Redis). */
  RATE_LIMIT_SYNC_MS: env.positiveInt(50).pipe(z.number().min(10).max(1_000)),
  RATE_LIMIT_MAX_KEYS: env.positiveInt(100_000),
})
  .refine((vars) => vars.HTTP_HEADERS_TIMEOUT_MS <= vars.HTTP_REQUEST_TIMEOUT_MS, {
    message: 'must not exceed HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)',
    path: ['HTTP_HEADERS_TIMEOUT_MS'],
  })
  .refine((vars) => !(vars.SSO_JWKS_URL && vars.SSO_JWKS_FILE), {
    message: 'set SSO_JWKS_URL or SSO_JWKS_FILE, not both',
    path: ['SSO_JWKS_FILE'],
  })
  // Without an issuer and audience, a token the identity provider signed for any other application would do.
  .refine((vars) => !(vars.SSO_JWKS_URL || vars.SSO_JWKS_FILE || vars.SSO_HS256_SECRET) || vars.SSO_ISSUER, {
    message: 'SSO tokens (SSO_JWKS_URL, SSO_JWKS_FILE or SSO_HS256_SECRET) need SSO_ISSUER',
    path: ['SSO_ISSUER'],
  })
  .refine((vars) => !vars.SSO_OIDC_ISSUER === !vars.SSO_OIDC_CLIENT_ID, {
    message: 'console SSO needs both SSO_OIDC_ISSUER and SSO_OIDC_CLIENT_ID',
    path: ['SSO_OIDC_CLIENT_ID'],
  })
  .refine((vars) => !(vars.SSO_JWKS_URL || vars.SSO_JWKS_FILE || vars.SSO_HS256_SECRET) || vars.SSO_AUDIENCE, {
    message: 'SSO tokens (SSO_JWKS_URL, SSO_JWKS_FILE or SSO_HS256_SECRET) need SSO_AUDIENCE',
    path: ['SSO_AUDIENCE'],
  })
  .refine(...redisCaNeedsTls)
  .refine((vars) => !(vars.SECRET_SCANNING_KEYS_URL && vars.SECRET_SCANNING_KEYS_FILE), {
    message: 'set SECRET_SCANNING_KEYS_URL or SECRET_SCANNING_KEYS_FILE, not both',
    path: ['SECRET_SCANNING_KEYS_FILE'],
  })
  .refine((vars) => !vars.SECRET_SCANNING_KEYS_URL || isHttpsOrLoopback(vars.SECRET_SCANNING_KEYS_URL), {
    message: 'must be https (plain http only on a loopback address)',
    path: ['SECRET_SCANNING_KEYS_URL'],
  });

/** 127.0.0.0/8, ::1 and `localhost`: a JWKS there never crosses a network. */
function isLoopback(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** The keys that authenticate leak reports must not travel in clear text, except on this machine. */
function isHttpsOrLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === 'https:' || isLoopback(hostname);
}

export interface GatewayConfig extends BaseConfig {
  port: number;
  /** `/metrics` and the health routes, kept off the public port. */
  metricsPort: number;
  /** Proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES); empty: the TCP peer is the client. */
  trustedProxies: IpRanges;
  upstreamUrl: string;
  adminToken: string | undefined;
  /** Bodies the data plane reads to find the target chatbot (POST /api/v1/chat and ROUTES_FILE body routes). */
  bodyLimitBytes: number;
  /** Bodies of the management, admin and other Nest routes: small JSON documents. */
  managementBodyLimitBytes: number;
  http: HttpServerLimits;
  routesFile: string | undefined;
  upstreamTimeoutMs: number;
  upstreamConnections: number;
  verifyTimeoutMs: number;
  authCache: { maxEntries: number; ttlMs: number; negativeTtlMs: number };
  sso: SsoConfig;
  /** Replicas of the key.used stream when it is first created (3 on a NATS cluster). */
  usageStreamReplicas: number;
  /** On SIGTERM, how long requests in flight (SSE streams too) may still run before they are cut. */
  shutdownGraceMs: number;
  console: ConsoleConfig;
  secretScanning: SecretScanningConfig;
  redis: RedisSettings;
  rateLimit: { syncIntervalMs: number; maxKeys: number };
}

/** The web console under /console/: where its built files are, and the OpenID provider it signs in with. */
export interface ConsoleConfig {
  /** The console's build output; undefined: dist/console beside the gateway's own build. */
  directory: string | undefined;
  /** Both set, or neither (key sign-in only). */
  oidc: { issuer: string; clientId: string } | null;
}

/** How long a client may take, so that slow or idle connections cannot pile up (Slowloris). */
export interface HttpServerLimits {
  /** From connecting (or the previous request) until the request headers are in. */
  headersTimeoutMs: number;
  /** Until the whole request, body included, is in; the answer (an SSE stream) is not limited by it. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this; above the load balancer's own idle timeout. */
  keepAliveTimeoutMs: number;
  /** Requests served on one keep-alive connection before it is closed (the last answer says `Connection: close`). */
  maxRequestsPerSocket: number;
}

/** Leak reports (GitHub secret scanning); with neither source set, the route is not served (404). */
export interface SecretScanningConfig {
  keysFile: string | undefined;
  keysUrl: string | undefined;
  /** Least time between two loads of the public keys; a report signed by an unknown key reloads after it. */
  refetchCooldownMs: number;
}

/** SSO tokens for the management API (docs/api.md, SSO tokens); with none of these set, every token is refused. */
export interface SsoConfig {
  jwksUrl: string | undefined;
  jwksFile: string | undefined;
  issuer: string | undefined;
  audience: string | undefined;
  hs256Secret: string | undefined;
  clockSkewSeconds: number;
  /** Least time between two JWKS fetches; a token with an unknown `kid` refetches after it. */
  jwksCooldownMs: number;
}

export function loadGatewayConfig(source: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = loadConfig(GatewayEnvSchema, source);
  return {
    ...baseConfig(parsed),
    port: parsed.GATEWAY_PORT,
    metricsPort: parsed.GATEWAY_METRICS_PORT,
    trustedProxies: parsed.TRUSTED_PROXIES,
    upstreamUrl: parsed.UPSTREAM_URL,
    adminToken: parsed.ADMIN_TOKEN,
    bodyLimitBytes: parsed.BODY_LIMIT_BYTES,
    managementBodyLimitBytes: parsed.MANAGEMENT_BODY_LIMIT_BYTES,
    http: {
      headersTimeoutMs: parsed.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: parsed.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: parsed.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxRequestsPerSocket: parsed.HTTP_MAX_REQUESTS_PER_SOCKET,
    },
    routesFile: parsed.ROUTES_FILE,
    upstreamTimeoutMs: parsed.UPSTREAM_TIMEOUT_MS,
    upstreamConnections: parsed.UPSTREAM_CONNECTIONS,
    verifyTimeoutMs: parsed.VERIFY_TIMEOUT_MS,
    authCache: {
      maxEntries: parsed.AUTH_CACHE_MAX_ENTRIES,
      ttlMs: parsed.AUTH_CACHE_TTL_MS,
      negativeTtlMs: parsed.AUTH_NEGATIVE_CACHE_TTL_MS,
    },
    usageStreamReplicas: parsed.USAGE_STREAM_REPLICAS,
    sso: {
      jwksUrl: parsed.SSO_JWKS_URL,
      jwksFile: parsed.SSO_JWKS_FILE,
      issuer: parsed.SSO_ISSUER,
      audience: parsed.SSO_AUDIENCE,
      hs256Secret: parsed.SSO_HS256_SECRET,
      clockSkewSeconds: parsed.SSO_CLOCK_SKEW_SECONDS,
      jwksCooldownMs: parsed.SSO_JWKS_COOLDOWN_MS,
    },
    shutdownGraceMs: parsed.SHUTDOWN_GRACE_MS,
    console: {
      directory: parsed.CONSOLE_DIR,
      oidc:
        parsed.SSO_OIDC_ISSUER && parsed.SSO_OIDC_CLIENT_ID
          ? { issuer: parsed.SSO_OIDC_ISSUER, clientId: parsed.SSO_OIDC_CLIENT_ID }
          : null,
    },
    secretScanning: {
      keysFile: parsed.SECRET_SCANNING_KEYS_FILE,
      keysUrl: parsed.SECRET_SCANNING_KEYS_URL,
      refetchCooldownMs: parsed.SECRET_SCANNING_KEYS_COOLDOWN_MS,
    },
    redis: redisSettings(parsed),
    rateLimit: { syncIntervalMs: parsed.RATE_LIMIT_SYNC_MS, maxKeys: parsed.RATE_LIMIT_MAX_KEYS },
  };
}
