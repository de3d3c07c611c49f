export * from './environment.js';
export * from './system.js';
export * from './usage-stream.js';
export * from './database.js';
export * from './factories.js';
export * from './private-servers.js';
export * from './polling.js';
export * from './http-client.js';
