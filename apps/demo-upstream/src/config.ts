import { BaseEnvSchema, env, loadConfig } from '@app/common';

const DemoUpstreamEnvSchema = BaseEnvSchema.pick({ LOG_LEVEL: true }).extend({
  DEMO_UPSTREAM_PORT: env.port(8090),
});

export interface DemoUpstreamConfig {
  port: number;
  logLevel: string;
}

export function loadDemoUpstreamConfig(source: NodeJS.ProcessEnv = process.env): DemoUpstreamConfig {
  const parsed = loadConfig(DemoUpstreamEnvSchema, source);
  return { port: parsed.DEMO_UPSTREAM_PORT, logLevel: parsed.LOG_LEVEL };
}
