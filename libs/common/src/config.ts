import { z } from 'zod';
import { IpRanges } from '@app/contracts';
import { NatsSecurityEnvSchema, natsSecurity, natsSecurityProblems, type NatsSecurity } from './nats-credentials.js';

export class ConfigError extends Error {}

/**
 * Validates the environment once at start-up. A missing or malformed variable
 * stops the process with a message naming it.
 */
export function loadConfig<Schema extends z.ZodType>(schema: Schema, env: NodeJS.ProcessEnv = process.env): z.infer<Schema> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
}

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);

export const env = {
  url: (fallback: string, protocols: string[]) =>
    z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .default(fallback)
        .refine(
          (value) => {
            try {
              return protocols.includes(new URL(value).protocol);
            } catch {
              return false;
            }
          },
          `must be a URL (${protocols.join(' or ')})`,
        ),
    ),
  port: (fallback: number) => z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).default(fallback)),
  positiveInt: (fallback: number) => z.preprocess(emptyAsUndefined, z.coerce.number().int().positive().default(fallback)),
  optionalString: () => z.preprocess(emptyAsUndefined, z.string().optional()),
  subjectPrefix: () =>
    z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated NATS tokens')
        .optional(),
    ),
  /** Comma-separated IP addresses and CIDR ranges (IPv4 and IPv6); none when unset. */
  ipRanges: () =>
    z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .optional()
        .transform((value, context) => {
          const entries = (value ?? '')
            .split(',')
            .map((entry) => entry.trim())
            .filter(Boolean);
          try {
            return IpRanges.parse(entries);
          } catch (error) {
            context.addIssue({ code: 'custom', message: `${(error as Error).message} (expected IPs or CIDRs, comma-separated)` });
            return z.NEVER;
          }
        }),
    ),
  logLevel: () => z.preprocess(emptyAsUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
};

/** What every service reads: where the bus is and how to log. */
export const BaseEnvSchema = z
  .object({
    NATS_URL: env.url('nats://127.0.0.1:4222', ['nats:', 'tls:']),
    NATS_SUBJECT_PREFIX: env.subjectPrefix(),
    LOG_LEVEL: env.logLevel(),
  })
  .extend(NatsSecurityEnvSchema.shape);

export interface BaseConfig {
  natsUrl: string;
  subjectPrefix: string | undefined;
  logLevel: string;
  /** NATS credentials and TLS (NATS_USER/NATS_PASSWORD, NATS_TOKEN or NATS_CREDS_FILE; NATS_TLS_*); none when absent. */
  nats?: NatsSecurity;
}

/**
 * The credential and TLS rules span several variables, so they are checked here rather than in
 * the schema (each app extends the schema, and an object refinement would not survive that).
 */
export function baseConfig(parsed: z.infer<typeof BaseEnvSchema>): BaseConfig {
  const problems = natsSecurityProblems(parsed);
  if (problems.length) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return {
    natsUrl: parsed.NATS_URL,
    subjectPrefix: parsed.NATS_SUBJECT_PREFIX,
    logLevel: parsed.LOG_LEVEL,
    nats: natsSecurity(parsed, parsed.NATS_URL),
  };
}
