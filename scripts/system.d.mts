import type { ChildProcess } from 'node:child_process';

export declare const ROOT: string;
export declare const SERVICES: { name: string; entry: string; portVariable: string; port: number }[];
export declare function freePort(): Promise<number>;
export declare const MIGRATIONS: string[];
export declare function migrate(env?: NodeJS.ProcessEnv, options?: { dist?: string; args?: string[] }): Promise<void>;
export interface RunningSystem {
  services: { name: string; child: ChildProcess; port: number }[];
  ports: Record<string, number>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}
export declare function startSystem(options?: {
  env?: NodeJS.ProcessEnv;
  ports?: Record<string, number>;
  output?: (service: string) => string;
  readyTimeoutMs?: number;
  /** Environment of one service only, added to `env` (e.g. its own NATS credentials). */
  envFor?: (service: string) => NodeJS.ProcessEnv;
}): Promise<RunningSystem>;
