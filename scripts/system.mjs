// Starts the whole system from the build in dist/: migrations, then every service as its own
// process. Used by `npm start` (the quick start) and by the end-to-end tests, so both run the
// system the same way.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');

/**
 * Every service: its entry in dist/ and the variable that names its HTTP port. The gateway also
 * has a metrics port (its HTTP port is public and does not serve /metrics), `gateway-metrics` in `ports`.
 */
export const SERVICES = [
  { name: 'demo-upstream', entry: 'apps/demo-upstream/src/main.js', portVariable: 'DEMO_UPSTREAM_PORT', port: 8090 },
  { name: 'key-management', entry: 'apps/key-management/src/main.js', portVariable: 'KEY_MANAGEMENT_HTTP_PORT', port: 8081 },
  { name: 'auth-verifier', entry: 'apps/auth-verifier/src/main.js', portVariable: 'AUTH_VERIFIER_HTTP_PORT', port: 8082 },
  { name: 'usage-tracker', entry: 'apps/usage-tracker/src/main.js', portVariable: 'USAGE_TRACKER_HTTP_PORT', port: 8083 },
  {
    name: 'gateway',
    entry: 'apps/gateway/src/main.js',
    portVariable: 'GATEWAY_PORT',
    port: 8080,
    metricsPortVariable: 'GATEWAY_METRICS_PORT',
    metricsPort: 8084,
  },
];

export const MIGRATIONS = ['apps/key-management/src/database/migrate.js', 'apps/usage-tracker/src/database/migrate.js'];

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function run(path, env, args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path} exited with ${code}`))));
  });
}

/**
 * Applies every service's migrations (creating the database if it is missing); `--wait` in
 * `args` waits for them instead. Every entry must be in the build: a missing one fails before
 * anything runs, rather than reporting success for a migration that never ran.
 */
export async function migrate(env = process.env, { dist = DIST, args = [] } = {}) {
  const missing = MIGRATIONS.filter((entry) => !existsSync(join(dist, entry)));
  if (missing.length) throw new Error(`migration entries missing from ${dist}: ${missing.join(', ')} (build first: npm run build)`);
  for (const entry of MIGRATIONS) await run(join(dist, entry), env, args);
}

/** A free port for each service's HTTP port and metrics port, keyed as `startSystem` takes them. */
export async function freePorts() {
  const ports = {};
  for (const service of SERVICES) {
    ports[service.name] = await freePort();
    if (service.metricsPortVariable) ports[`${service.name}-metrics`] = await freePort();
  }
  return ports;
}

/** Resolves once `url` answers 200; rejects if `child` exits first or the time runs out. */
export async function waitUntilReady(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms`);
}

/**
 * Starts every service with `env` (plus its port, plus `envFor(name)`: e.g. its own NATS
 * credentials). `output(name)` decides where a service's log lines go: a file path, or
 * 'inherit'. Resolves once every /health/ready answers 200.
 */
/**
 * Each service's port (and the gateway's metrics port): the one asked for in `ports`, else its
 * variable in `env` (GATEWAY_PORT=9000 npm start), else the default. A variable that is not a
 * port stops the start, naming it.
 */
export function resolvePorts(env = process.env, ports = {}) {
  const resolved = {};
  const pick = (name, variable, fallback) => {
    if (ports[name] !== undefined) return ports[name];
    const value = env[variable];
    if (value === undefined || value === '') return fallback;
    const port = Number(value);
    if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new Error(`${variable} must be a port number (1-65535), got "${value}"`);
    return port;
  };
  for (const service of SERVICES) {
    resolved[service.name] = pick(service.name, service.portVariable, service.port);
    if (service.metricsPortVariable) {
      resolved[`${service.name}-metrics`] = pick(`${service.name}-metrics`, service.metricsPortVariable, service.metricsPort);
    }
  }
  return resolved;
}

/** SIGTERM (or `signal`), then SIGKILL after 10 s; resolves once the process has exited. */
export function stopChild(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

export async function startSystem({
  env = process.env,
  ports = {},
  output = () => 'inherit',
  readyTimeoutMs = 30_000,
  envFor = () => ({}),
} = {}) {
  const started = [];
  const stop = async (signal = 'SIGTERM') => {
    await Promise.all(started.reverse().map(({ child }) => stopChild(child, signal)));
  };
  try {
    const resolvedPorts = resolvePorts(env, ports);
    const serviceEnv = { ...env };
    for (const service of SERVICES) {
      serviceEnv[service.portVariable] = String(resolvedPorts[service.name]);
      if (service.metricsPortVariable) serviceEnv[service.metricsPortVariable] = String(resolvedPorts[`${service.name}-metrics`]);
    }
    serviceEnv.UPSTREAM_URL ??= `http://127.0.0.1:${resolvedPorts['demo-upstream']}`;

    for (const service of SERVICES) {
      if (!existsSync(join(DIST, service.entry))) continue;
      const target = output(service.name);
      const stream = target === 'inherit' ? null : createWriteStream(target, { flags: 'a' });
      const child = spawn(process.execPath, [join(DIST, service.entry)], {
        env: { ...serviceEnv, ...envFor(service.name) },
        stdio: ['ignore', stream ? 'pipe' : 'inherit', stream ? 'pipe' : 'inherit'],
      });
      if (stream) {
        child.stdout.pipe(stream);
        child.stderr.pipe(stream);
      }
      const port = resolvedPorts[service.name];
      started.push({ name: service.name, child, port });
      await waitUntilReady(`http://127.0.0.1:${port}/health/ready`, child, readyTimeoutMs);
    }
    return { services: started, ports: resolvedPorts, stop };
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
}
