import 'reflect-metadata';
import { createLogger, runMain } from '@app/common';
import { loadUsageTrackerConfig } from './config.js';
import { startUsageTracker } from './usage-tracker.js';

runMain('usage-tracker', async () => {
  const config = loadUsageTrackerConfig();
  await startUsageTracker(config, createLogger('usage-tracker', config.logLevel));
});
