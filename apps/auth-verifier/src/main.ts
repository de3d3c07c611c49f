import 'reflect-metadata';
import { createLogger, runMain } from '@app/common';
import { loadAuthVerifierConfig } from './config.js';
import { startAuthVerifier } from './auth-verifier.js';

runMain('auth-verifier', async () => {
  const config = loadAuthVerifierConfig();
  await startAuthVerifier(config, createLogger('auth-verifier', config.logLevel));
});
