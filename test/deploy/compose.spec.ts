import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { SERVICES } from '../../scripts/system.mjs';
import { CONFIG_LOADERS } from './app-configs.js';
import { composeEnvironment, healthcheckPort, interpolate, readCompose, ROOT } from './deploy-files.js';

const ONE_SHOT = 'migrate';
const INFRASTRUCTURE = ['postgres', 'redis', 'nats'];
const CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'];

/** As on a machine with no variable set: every ${VAR:-default} takes its default. */
const compose = readCompose({});
const services: Record<string, any> = compose.services;
const dependencies = (name: string): Record<string, { condition: string }> => {
  const dependsOn = services[name].depends_on ?? {};
  return Array.isArray(dependsOn)
    ? Object.fromEntries(dependsOn.map((target: string) => [target, { condition: 'service_started' }]))
    : dependsOn;
};

describe('compose variable interpolation (the reader the other checks rely on)', () => {
  it('resolves defaults, set values, $$ and required variables as docker compose does', () => {
    expect(interpolate('${A:-x}|${A-y}|${B:-x}|${B-y}|$$HOME|$B', { B: '' })).toBe('x|y|x||$HOME|');
    expect(interpolate('${A:-x}/${A}', { A: 'set' })).toBe('set/set');
    expect(() => interpolate('${A:?needs A}', {})).toThrow('needs A');
  });
});

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, Redis, NATS, the migration and every service', () => {
    expect(Object.keys(services).sort()).toEqual([...INFRASTRUCTURE, ONE_SHOT, ...SERVICES.map((service) => service.name)].sort());
  });

  it('gives every long-running service a healthcheck and a restart policy; the one-shot migration neither', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === ONE_SHOT) {
        expect(service.healthcheck).toBeUndefined();
        expect(service.restart).toBe('no');
        continue;
      }
      expect({ name, test: Array.isArray(service.healthcheck?.test) && service.healthcheck.test.length > 1 }).toEqual({ name, test: true });
      expect({ name, restart: service.restart }).toEqual({ name, restart: 'unless-stopped' });
    }
  });

  it('keeps PostgreSQL, Redis and NATS (JetStream with a file store) on named volumes', () => {
    // Files mounted from the repository (the NATS configuration) are not data: only named volumes are.
    const named = (name: string): string[] => (services[name].volumes ?? []).filter((volume: string) => !volume.startsWith('./'));
    for (const name of INFRASTRUCTURE) {
      const volumes = named(name);
      expect(volumes.length).toBe(1);
      expect(Object.keys(compose.volumes)).toContain(volumes[0].split(':')[0]);
    }
    const nats: string[] = services.nats.command;
    expect(nats).toEqual(expect.arrayContaining(['-js', '-sd']));
    expect(named('nats')[0].split(':')[1]).toBe(nats[nats.indexOf('-sd') + 1]);
  });

  it('runs NATS with the shipped per-service configuration, and gives each service its own NATS user', () => {
    const nats: string[] = services.nats.command;
    const config = nats[nats.indexOf('-c') + 1];
    expect(services.nats.volumes).toContain(`./k8s/nats/nats-server.conf:${config}:ro`);
    for (const name of ['gateway', 'key-management', 'auth-verifier', 'usage-tracker']) {
      const environment = composeEnvironment(services[name]);
      expect({ name, user: environment.NATS_USER }).toEqual({ name, user: name });
      const variable = `NATS_${name.toUpperCase().replace('-', '_')}_PASSWORD`;
      expect({ name, password: environment.NATS_PASSWORD }).toEqual({ name, password: composeEnvironment(services.nats)[variable] });
    }
  });

  it('starts everything in order: depends_on names existing services with valid conditions', () => {
    for (const name of Object.keys(services)) {
      for (const [target, { condition }] of Object.entries(dependencies(name))) {
        expect({ name, target, exists: target in services }).toEqual({ name, target, exists: true });
        expect(CONDITIONS).toContain(condition);
        const expected = target === ONE_SHOT ? 'service_completed_successfully' : 'service_healthy';
        expect({ name, target, condition }).toEqual({ name, target, condition: expected });
      }
    }
    expect(dependencies(ONE_SHOT)).toEqual({ postgres: { condition: 'service_healthy' } });
    // The services that own schemas wait for the migration.
    for (const name of ['key-management', 'usage-tracker']) expect(dependencies(name)[ONE_SHOT]).toBeDefined();
  });

  it('calls PostgreSQL healthy only once it accepts TCP, as the migration connects (not the init server on the socket)', () => {
    const test: string[] = services.postgres.healthcheck.test;
    expect(test.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    const host = test[test.indexOf('-h') + 1];
    expect({ host: test.includes('-h') ? host : 'the Unix socket' }).toEqual({ host: '127.0.0.1' });
  });

  it('retries the migration while PostgreSQL does not answer, for a bounded time, and starts the schema owners after it', () => {
    const environment = composeEnvironment(services[ONE_SHOT]);
    expect(Number(environment.MIGRATION_TIMEOUT_SECONDS)).toBeGreaterThanOrEqual(60);
    for (const name of ['key-management', 'usage-tracker']) {
      expect(dependencies(name)[ONE_SHOT]).toEqual({ condition: 'service_completed_successfully' });
    }
  });

  it('builds each image from its own Dockerfile target', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    for (const name of [ONE_SHOT, ...SERVICES.map((service) => service.name)]) {
      expect(services[name].build).toEqual({ context: '.', target: name });
      expect(dockerfile).toMatch(new RegExp(`^FROM \\S+ AS ${name}$`, 'm'));
    }
  });

  it('publishes only the gateway, on 8080', () => {
    const published = Object.entries(services).filter(([, service]) => service.ports?.length);
    expect(published.map(([name]) => name)).toEqual(['gateway']);
    expect(services.gateway.ports).toEqual(['127.0.0.1:8080:8080']);
  });

  it("gives each service an environment its own config loader accepts, listening on its healthcheck's port", () => {
    for (const { name, portVariable, port } of SERVICES) {
      const environment = composeEnvironment(services[name]);
      const listensOn = CONFIG_LOADERS[name](environment);
      expect({ name, listensOn, healthcheck: healthcheckPort(services[name]) }).toEqual({ name, listensOn: port, healthcheck: port });
      expect(environment[portVariable]).toBe(String(port));
    }
    expect(() => CONFIG_LOADERS.migrate(composeEnvironment(services[ONE_SHOT]))).not.toThrow();
  });

  it('wires the services to each other by their compose names', () => {
    const gateway = composeEnvironment(services.gateway);
    expect(gateway.UPSTREAM_URL).toBe('http://demo-upstream:8090');
    expect(new URL(composeEnvironment(services['auth-verifier']).REDIS_URL).host).toBe('redis:6379');
    for (const name of ['key-management', 'usage-tracker', ONE_SHOT]) {
      const url = new URL(composeEnvironment(services[name]).DATABASE_URL);
      expect({ name, host: url.host, database: url.pathname }).toEqual({ name, host: 'postgres:5432', database: '/chatbot_keys' });
      expect(decodeURIComponent(url.password)).toBe(services.postgres.environment.POSTGRES_PASSWORD);
    }
    for (const { name } of SERVICES.filter((service) => service.name !== 'demo-upstream')) {
      expect(composeEnvironment(services[name]).NATS_URL).toBe('nats://nats:4222');
    }
  });

  it("enables the admin API with the quick start's development token unless ADMIN_TOKEN is set", () => {
    const start = readFileSync(join(ROOT, 'scripts/start.mjs'), 'utf8');
    const quickStartToken = /ADMIN_TOKEN \|\| '([^']+)'/.exec(start)?.[1];
    expect(composeEnvironment(services.gateway).ADMIN_TOKEN).toBe(quickStartToken);
    const overridden = readCompose({ ADMIN_TOKEN: 'an-operator-chosen-token-123456' });
    expect(composeEnvironment(overridden.services.gateway).ADMIN_TOKEN).toBe('an-operator-chosen-token-123456');
    expect(() => CONFIG_LOADERS.gateway(composeEnvironment(overridden.services.gateway))).not.toThrow();
  });
});
