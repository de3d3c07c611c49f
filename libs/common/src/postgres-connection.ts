import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

/**
 * TLS to PostgreSQL with libpq's meaning of `sslmode`, which managed services (RDS, Cloud SQL,
 * Azure) document. node-postgres alone reads `sslmode=require` as `verify-full`, so a URL copied
 * from a provider's console fails against a server whose CA the process does not trust.
 *
 *   disable      plaintext
 *   prefer       TLS without certificate checks (node-postgres cannot fall back to plaintext)
 *   require      TLS; with a CA file the chain is checked as in verify-ca, without one nothing is
 *   verify-ca    TLS, the chain checked against the CA file (required), any host name
 *   verify-full  TLS, the chain checked (the CA file, else the system's roots) and the host name
 *
 * The mode comes from the URL's `sslmode`, else PGSSLMODE, else `verify-full` when a CA file is
 * given and `disable` when none is. The CA file is DATABASE_CA_FILE, else PGSSLROOTCERT, else
 * the URL's `sslrootcert`; `sslcert`/`sslkey` in the URL name a client certificate.
 */
export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface PostgresTlsSettings {
  /** DATABASE_CA_FILE or PGSSLROOTCERT: PEM file of the CA that signed the server's certificate. */
  caFile?: string;
  /** PGSSLMODE: the mode when the URL names none. */
  sslMode?: string;
}

/** The TLS options this module sets (node-postgres hands them to `tls.connect`). */
export type PostgresSsl = Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'checkServerIdentity'>;

export interface PostgresConnection {
  /** The URL without its TLS parameters, which node-postgres would otherwise read its own way. */
  url: string;
  ssl: false | PostgresSsl;
  sslMode: SslMode;
}

/** URL parameters that node-postgres interprets itself: stripped, and applied here instead. */
const TLS_PARAMETERS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'uselibpqcompat'];

export function postgresConnection(databaseUrl: string, settings: PostgresTlsSettings = {}): PostgresConnection {
  const url = new URL(databaseUrl);
  const parameter = (name: string) => url.searchParams.get(name) ?? undefined;
  const caFile = settings.caFile || parameter('sslrootcert');
  const sslMode = resolveMode(parameter('sslmode') ?? legacySslFlag(parameter('ssl')) ?? settings.sslMode, caFile);
  for (const name of TLS_PARAMETERS) url.searchParams.delete(name);
  const stripped = url.toString();
  if (sslMode === 'disable') return { url: stripped, ssl: false, sslMode };

  const ssl: PostgresSsl = {};
  if (caFile) ssl.ca = readPem(caFile, 'the CA file');
  const cert = parameter('sslcert');
  const key = parameter('sslkey');
  if (cert) ssl.cert = readPem(cert, 'sslcert');
  if (key) ssl.key = readPem(key, 'sslkey');

  if (sslMode === 'prefer' || (sslMode === 'require' && !caFile)) ssl.rejectUnauthorized = false;
  else if (sslMode === 'require' || sslMode === 'verify-ca') {
    if (!caFile) throw new Error('sslmode=verify-ca needs a CA file: set DATABASE_CA_FILE (or PGSSLROOTCERT)');
    // The chain is verified against the CA; the host name is not (libpq's verify-ca).
    ssl.checkServerIdentity = () => undefined;
  }
  return { url: stripped, ssl, sslMode };
}

function resolveMode(mode: string | undefined, caFile: string | undefined): SslMode {
  if (mode === undefined || mode === '') return caFile ? 'verify-full' : 'disable';
  if ((SSL_MODES as readonly string[]).includes(mode)) return mode as SslMode;
  throw new Error(`sslmode=${mode} is not supported: use one of ${SSL_MODES.join(', ')}`);
}

/** node-postgres' own `ssl=true` means a verified connection; `ssl=false` none. */
function legacySslFlag(value: string | undefined): SslMode | undefined {
  if (value === undefined) return undefined;
  return value === 'true' || value === '1' ? 'verify-full' : 'disable';
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}
