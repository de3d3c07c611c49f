import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, NatsBus } from '@app/common';
// The apps' own start functions and config loader, as their main.ts calls them.
import { startAuthVerifier } from '../../../apps/auth-verifier/src/auth-verifier.js';
import { loadAuthVerifierConfig } from '../../../apps/auth-verifier/src/config.js';
import { startKeyManagement } from '../../../apps/key-management/src/key-management.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import type { TestEnvironment } from './environment.js';

/**
 * Key-management on a migrated database of its own and an auth-verifier, both in this process on
 * the run's NATS subjects, and a bus client to ask them: `auth.verify` as the gateway meets it.
 */
export interface VerifierStack {
  /** The verifier the stack runs (the one `restartVerifier` replaced, if it was called). */
  readonly verifier: NestFastifyApplication;
  bus: NatsBus;
  /** One more verifier with the stack's environment and `overrides`; its caller closes it. */
  startVerifier(overrides?: NodeJS.ProcessEnv): Promise<NestFastifyApplication>;
  /** Closes the verifier and starts another in its place, knowing nothing of earlier events. */
  restartVerifier(overrides?: NodeJS.ProcessEnv): Promise<NestFastifyApplication>;
  stop(): Promise<void>;
}

export interface VerifierStackOptions {
  /** Names the bus client and the logger. */
  name: string;
  /** The verifier's environment beyond the run's NATS and Redis (e.g. a Redis Cluster URL and its CA). */
  verifierEnv?: NodeJS.ProcessEnv;
}

export async function startVerifierStack(env: TestEnvironment, options: VerifierStackOptions): Promise<VerifierStack> {
  const logger = createLogger(options.name, 'silent');
  const startVerifier = (overrides: NodeJS.ProcessEnv = {}) =>
    startAuthVerifier(
      loadAuthVerifierConfig({
        NATS_URL: env.natsUrl,
        NATS_SUBJECT_PREFIX: env.subjectPrefix,
        REDIS_URL: env.redisUrl,
        REDIS_KEY_PREFIX: env.redisPrefix,
        AUTH_VERIFIER_HTTP_PORT: '0',
        LOG_LEVEL: 'silent',
        ...options.verifierEnv,
        ...overrides,
      }),
      logger,
    );
  const started: { database?: TestDatabase; keyManagement?: NestFastifyApplication; verifier?: NestFastifyApplication; bus?: NatsBus } = {};
  const stop = async () => {
    await started.bus?.close();
    await started.verifier?.close();
    await started.keyManagement?.close();
    await started.database?.drop();
  };
  try {
    const database = (started.database = await createTestDatabase(env));
    started.keyManagement = await startKeyManagement(
      {
        port: 0,
        databaseUrl: database.url,
        databasePoolSize: 5,
        natsUrl: env.natsUrl,
        subjectPrefix: env.subjectPrefix,
        logLevel: 'silent',
      },
      logger,
    );
    started.verifier = await startVerifier();
    started.bus = await NatsBus.connect({ url: env.natsUrl, subjectPrefix: env.subjectPrefix, name: options.name, logger });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    get verifier() {
      return started.verifier!;
    },
    bus: started.bus,
    startVerifier,
    restartVerifier: async (overrides) => {
      await started.verifier?.close();
      started.verifier = undefined;
      return (started.verifier = await startVerifier(overrides));
    },
    stop,
  };
}
