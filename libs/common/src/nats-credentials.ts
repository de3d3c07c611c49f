import { accessSync, constants, readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * How a service proves who it is to NATS, and how the connection is encrypted. NATS is a trust
 * boundary: whoever may answer `auth.verify` decides who gets in, so every service connects with
 * a user of its own and the server's configuration limits each user to its subjects.
 */
export type NatsAuth =
  | { kind: 'none' }
  | { kind: 'password'; user: string; password: string }
  | { kind: 'token'; token: string }
  /** The `.creds` file's content (a user JWT and its NKey seed), read once at start-up. */
  | { kind: 'creds'; creds: Uint8Array };

export interface NatsTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface NatsSecurity {
  auth: NatsAuth;
  /** Set when the connection must be TLS (a `tls://` URL or any TLS file given). */
  tls: NatsTls | undefined;
}

const optional = z.preprocess((value) => (value === '' ? undefined : value), z.string().optional());

export const NatsSecurityEnvSchema = z.object({
  NATS_USER: optional,
  NATS_PASSWORD: optional,
  NATS_TOKEN: optional,
  NATS_CREDS_FILE: optional,
  NATS_TLS_CA_FILE: optional,
  NATS_TLS_CERT_FILE: optional,
  NATS_TLS_KEY_FILE: optional,
});

type SecurityEnv = z.infer<typeof NatsSecurityEnvSchema>;

/** What is wrong with the credential and TLS variables, each line naming its variable; empty when nothing. */
export function natsSecurityProblems(env: SecurityEnv): string[] {
  const problems: string[] = [];
  const problem = (name: keyof SecurityEnv, message: string) => problems.push(`${name}: ${message}`);
  if (env.NATS_USER !== undefined && env.NATS_PASSWORD === undefined) problem('NATS_PASSWORD', 'is required with NATS_USER');
  if (env.NATS_PASSWORD !== undefined && env.NATS_USER === undefined) problem('NATS_USER', 'is required with NATS_PASSWORD');
  const methods = [
    env.NATS_USER !== undefined || env.NATS_PASSWORD !== undefined ? 'NATS_USER/NATS_PASSWORD' : null,
    env.NATS_TOKEN !== undefined ? 'NATS_TOKEN' : null,
    env.NATS_CREDS_FILE !== undefined ? 'NATS_CREDS_FILE' : null,
  ].filter((method) => method !== null);
  if (methods.length > 1) problem('NATS_TOKEN', `set one way to authenticate, not ${methods.join(' and ')}`);
  if (env.NATS_TLS_CERT_FILE !== undefined && env.NATS_TLS_KEY_FILE === undefined) {
    problem('NATS_TLS_KEY_FILE', 'is required with NATS_TLS_CERT_FILE (mutual TLS needs both)');
  }
  if (env.NATS_TLS_KEY_FILE !== undefined && env.NATS_TLS_CERT_FILE === undefined) {
    problem('NATS_TLS_CERT_FILE', 'is required with NATS_TLS_KEY_FILE (mutual TLS needs both)');
  }
  for (const name of ['NATS_CREDS_FILE', 'NATS_TLS_CA_FILE', 'NATS_TLS_CERT_FILE', 'NATS_TLS_KEY_FILE'] as const) {
    const path = env[name];
    if (path === undefined) continue;
    try {
      accessSync(path, constants.R_OK);
    } catch {
      problem(name, `cannot read ${path}`);
    }
  }
  return problems;
}

export function natsSecurity(env: SecurityEnv, natsUrl: string): NatsSecurity {
  let auth: NatsAuth = { kind: 'none' };
  if (env.NATS_USER !== undefined && env.NATS_PASSWORD !== undefined) {
    auth = { kind: 'password', user: env.NATS_USER, password: env.NATS_PASSWORD };
  } else if (env.NATS_TOKEN !== undefined) {
    auth = { kind: 'token', token: env.NATS_TOKEN };
  } else if (env.NATS_CREDS_FILE !== undefined) {
    auth = { kind: 'creds', creds: readFileSync(env.NATS_CREDS_FILE) };
  }
  const files: NatsTls = {
    ...(env.NATS_TLS_CA_FILE !== undefined && { caFile: env.NATS_TLS_CA_FILE }),
    ...(env.NATS_TLS_CERT_FILE !== undefined && { certFile: env.NATS_TLS_CERT_FILE }),
    ...(env.NATS_TLS_KEY_FILE !== undefined && { keyFile: env.NATS_TLS_KEY_FILE }),
  };
  const wantsTls = natsUrl.startsWith('tls:') || Object.keys(files).length > 0;
  return { auth, tls: wantsTls ? files : undefined };
}
