export interface RunNamespace {
  runId: string;
  /** The server, on its `postgres` database; `createTestDatabase` (libs/testing) makes the run's own. */
  postgresUrl: string;
  /** The run's own database on that server (created by `createTestDatabase` or the migrations). */
  databaseUrl: string;
  redisUrl: string;
  natsUrl: string;
  redisPrefix: string;
  subjectPrefix: string;
}
export declare const DEFAULT_SERVERS: { postgresUrl: string; redisUrl: string; natsUrl: string };
export declare function runNamespace(
  servers?: Partial<{ postgresUrl: string; redisUrl: string; natsUrl: string }>,
  options?: { tag?: string; bytes?: number; env?: NodeJS.ProcessEnv },
): RunNamespace;
export declare function dropDatabase(serverUrl: string, name: string): Promise<void>;
export declare function deleteRedisKeys(redisUrl: string, prefix: string): Promise<void>;
export declare function deleteStreams(natsUrl: string, names: string[]): Promise<void>;
export declare function dropRunNamespace(
  namespace: Pick<RunNamespace, 'postgresUrl' | 'databaseUrl' | 'redisUrl' | 'natsUrl' | 'redisPrefix'>,
  options?: { streams?: string[] },
): Promise<void>;
