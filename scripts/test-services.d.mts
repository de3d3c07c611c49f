export interface ServiceUrls {
  databaseUrl: string;
  redisUrl: string;
  natsUrl: string;
}
export interface ServicesChoice {
  kind: 'containers' | 'environment';
  reason: string;
}
export interface TestServices extends ServicesChoice {
  urls: ServiceUrls;
  stop(): Promise<void>;
}
export declare const DEFAULT_URLS: ServiceUrls;
export declare const IMAGES: { postgres: string; redis: string; nats: string };
export declare function containerEngineAnswers(): Promise<boolean>;
export declare function chooseTestServices(env?: NodeJS.ProcessEnv, engineAnswers?: () => Promise<boolean>): Promise<ServicesChoice>;
export declare function environmentUrls(env?: NodeJS.ProcessEnv): ServiceUrls;
export declare function startServiceContainers(): Promise<{ urls: ServiceUrls; stop(): Promise<void> }>;
export declare function startTestServices(options?: {
  env?: NodeJS.ProcessEnv;
  engineAnswers?: () => Promise<boolean>;
  startContainers?: () => Promise<{ urls: ServiceUrls; stop(): Promise<void> }>;
}): Promise<TestServices>;
export declare function serviceVariables(urls: ServiceUrls): { DATABASE_URL: string; REDIS_URL: string; NATS_URL: string };
