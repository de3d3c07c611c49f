// Child processes of a bench run: helper servers that print {"port":n}, and extra gateway replicas.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { ROOT, freePort } from '../system.mjs';

const running = new Set();

/** Starts `node script` and resolves once it printed its port. */
export function startHelper(script, env = {}, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const { port } = JSON.parse(line);
      resolve({ child, port, url: `http://127.0.0.1:${port}`, stop: () => stopChild(child) });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before listening`)));
  });
}

/** One more gateway replica on the same bus, optionally with node flags such as --cpu-prof; `metricsUrl` serves its /metrics. */
export async function startGateway(env, port, { nodeArgs = [], logFile } = {}) {
  const log = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
  const metricsPort = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist/apps/gateway/src/main.js')], {
    env: { ...env, GATEWAY_PORT: String(port), GATEWAY_METRICS_PORT: String(metricsPort) },
    stdio: ['ignore', log ? 'pipe' : 'ignore', log ? 'pipe' : 'ignore'],
  });
  if (log) {
    child.stdout.pipe(log);
    child.stderr.pipe(log);
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway on ${port} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`gateway on ${port} not ready in 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, port, url, metricsUrl: `http://127.0.0.1:${metricsPort}`, stop: () => stopChild(child) };
}

/** SIGTERM (SIGINT for a profiled process: it writes its profile on a clean exit), SIGKILL after 10 s. */
export function stopChild(child, signal = 'SIGTERM') {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

export async function stopAllHelpers() {
  await Promise.all([...running].map((child) => stopChild(child)));
}
