import 'reflect-metadata';
import { createLogger, runMain } from '@app/common';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './gateway.js';

runMain('gateway', async () => {
  const config = loadGatewayConfig();
  await startGateway(config, createLogger('gateway', config.logLevel));
});
