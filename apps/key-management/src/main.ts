import 'reflect-metadata';
import { createLogger, runMain } from '@app/common';
import { loadKeyManagementConfig } from './config.js';
import { startKeyManagement } from './key-management.js';

runMain('key-management', async () => {
  const config = loadKeyManagementConfig();
  await startKeyManagement(config, createLogger('key-management', config.logLevel));
});
