import { DatabaseEnvSchema, loadConfig } from '@app/common';
import { loadAuthVerifierConfig } from '../../apps/auth-verifier/src/config.js';
import { loadDemoUpstreamConfig } from '../../apps/demo-upstream/src/config.js';
import { loadGatewayConfig } from '../../apps/gateway/src/config.js';
import { loadKeyManagementConfig } from '../../apps/key-management/src/config.js';
import { loadUsageTrackerConfig } from '../../apps/usage-tracker/src/config.js';

/**
 * Each deployable process and the loader that validates its environment at start-up: the
 * services' own config loaders, and for the migration command the schema both migrations read.
 * A loader returns the HTTP port the process will listen on (none for the migration).
 */
export const CONFIG_LOADERS: Record<string, (env: NodeJS.ProcessEnv) => number | undefined> = {
  gateway: (env) => loadGatewayConfig(env).port,
  'key-management': (env) => loadKeyManagementConfig(env).port,
  'auth-verifier': (env) => loadAuthVerifierConfig(env).port,
  'usage-tracker': (env) => loadUsageTrackerConfig(env).port,
  'demo-upstream': (env) => loadDemoUpstreamConfig(env).port,
  migrate: (env) => {
    loadConfig(DatabaseEnvSchema, env);
    return undefined;
  },
};

/**
 * Stand-ins for values that are secret or run-specific (placeholders in the templates,
 * out-of-band Secrets in prod), shaped the way real ones are.
 */
export const TEST_SECRET_VALUES: Record<string, string> = {
  DATABASE_URL: 'postgresql://chatbot_keys:test-password@chatbot-keys-pg-rw.chatbot-keys:5432/chatbot_keys',
  REDIS_URL: 'rediss://default:test-password@redis.example.internal:6380',
  ADMIN_TOKEN: 'test-admin-token-0123456789abcdef',
  // Off, as the templates ship it: a secret set needs SSO_ISSUER and SSO_AUDIENCE in the ConfigMap too.
  SSO_HS256_SECRET: '',
  NATS_PASSWORD: 'ptestnatspassword0123456789',
};

export function testSecretValue(variable: string): string {
  const value = TEST_SECRET_VALUES[variable];
  if (value === undefined) throw new Error(`no test value for the secret variable ${variable}`);
  return value;
}
