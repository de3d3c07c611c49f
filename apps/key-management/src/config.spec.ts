import { describe, expect, it } from '@jest/globals';
import { loadKeyManagementConfig } from './config.js';

describe(loadKeyManagementConfig.name, () => {
  it('defaults to the quick-start database and port 8081', () => {
    expect(loadKeyManagementConfig({})).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/chatbot_keys',
      port: 8081,
      databasePoolSize: 10,
      natsUrl: 'nats://127.0.0.1:4222',
    });
  });

  it('stops on a malformed variable, naming it', () => {
    expect(() => loadKeyManagementConfig({ DATABASE_URL: 'mysql://db/x' })).toThrow(/DATABASE_URL/);
    expect(() => loadKeyManagementConfig({ DATABASE_POOL_SIZE: '0' })).toThrow(/DATABASE_POOL_SIZE/);
  });
});
