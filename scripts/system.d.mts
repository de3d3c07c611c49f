import type { ChildProcess } from 'node:child_process';

export declare const ROOT: string;
export declare const SERVICES: {
  name: string;
  entry: string;
  portVariable: string;
  port: number;
  metricsPortVariable?: string;
  metricsPort?: number;
}[];
export declare function freePort(): Promise<number>;
export declare function waitUntilReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void>;
/** SIGTERM (or `signal`), then SIGKILL after 10 s; resolves once the process has exited. */
export declare function stopChild(child: ChildProcess, signal?: NodeJS.Signals): Promise<void>;
export declare const MIGRATIONS: string[];
/** Keyed by service name, plus `<name>-metrics` for a service with a metrics port of its own. */
export declare function freePorts(): Promise<Record<string, number>>;
export declare function resolvePorts(env?: NodeJS.ProcessEnv, ports?: Record<string, number>): Record<string, number>;
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
