import { createLogger, runMain } from '@app/common';
import { loadDemoUpstreamConfig } from './config.js';
import { startDemoUpstream } from './demo-upstream.js';

runMain('demo-upstream', async () => {
  const config = loadDemoUpstreamConfig();
  await startDemoUpstream(config, createLogger('demo-upstream', config.logLevel));
});
