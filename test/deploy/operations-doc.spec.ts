import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { readCompose, ROOT } from './deploy-files.js';

const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
/**
 * Upper-case names in the doc that are not the services' variables: the JetStream stream of
 * key.used, and Node's own NODE_OPTIONS (set in the manifests to bound the heap).
 */
const NOT_VARIABLES = new Set(['KEY_USED', 'NODE_OPTIONS']);

/**
 * Variables the public contract names that changes beside this one introduce in the config
 * schemas (NATS credentials and TLS; the gateway's metrics port): documented here already.
 */
const CONTRACT_VARIABLES = [
  'GATEWAY_METRICS_PORT',
  'NATS_USER',
  'NATS_PASSWORD',
  'NATS_TOKEN',
  'NATS_CREDS_FILE',
  'NATS_TLS_CA_FILE',
  'NATS_TLS_CERT_FILE',
  'NATS_TLS_KEY_FILE',
];

/** Every variable a service's config schema (or the shared base schema) reads. */
function configVariables(): Set<string> {
  const sources = [
    join(ROOT, 'libs/common/src/config.ts'),
    join(ROOT, 'libs/common/src/nats-credentials.ts'),
    join(ROOT, 'libs/common/src/migrations.ts'),
    join(ROOT, 'libs/common/src/redis-config.ts'),
    ...readdirSync(join(ROOT, 'apps')).map((app) => join(ROOT, 'apps', app, 'src/config.ts')),
  ].filter((path) => existsSync(path));
  const names = [
    ...CONTRACT_VARIABLES,
    ...sources.flatMap((path) => [...readFileSync(path, 'utf8').matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1])),
  ];
  return new Set(names);
}

describe('docs/operations.md', () => {
  it('names only files that exist', () => {
    const paths = [...doc.matchAll(/`((?:k8s|docs|scripts|libs|apps)\/[^`\s]+|Dockerfile|docker-compose\.yml)`/g)].map((match) => match[1]);
    expect(paths.length).toBeGreaterThan(3);
    for (const path of paths) expect({ path, exists: existsSync(join(ROOT, path)) }).toEqual({ path, exists: true });
  });

  it('names only variables that a service reads or docker-compose.yml interpolates', () => {
    const known = configVariables();
    const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    for (const match of composeText.matchAll(/\$\{([A-Z_]+)/g)) known.add(match[1]);
    expect(known.has('GATEWAY_PORT')).toBe(true);
    const named = [...doc.matchAll(/`([A-Z][A-Z0-9]*_[A-Z0-9_]+)(?:=[^`]*)?`/g)]
      .map((match) => match[1])
      .filter((name) => !NOT_VARIABLES.has(name));
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((variable) => !known.has(variable))).toEqual([]);
  });

  it('describes the compose defaults as they are', () => {
    const gateway = readCompose({}).services.gateway;
    expect(doc).toContain(`\`${gateway.ports[0].split(':').slice(0, 2).join(':')}\``);
  });
});

// ---- readiness: what the code registers, and what the runbook says --------------------------

const SERVICES_WITH_DEPENDENCIES = ['gateway', 'key-management', 'auth-verifier', 'usage-tracker'];
const DEPENDENCIES: Record<string, string> = { PostgreSQL: 'postgres', Redis: 'redis', NATS: 'nats' };

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

/**
 * Each service's readiness checks and whether each is required (503 when down), read from
 * the code: `readiness.register('name', …, { required: false })` in the app's sources, and
 * the NATS check that `NatsModule.forRoot` registers (required unless `readinessRequired: false`).
 */
function readinessInCode(service: string): Record<string, 'required' | 'reported'> {
  const checks: Record<string, 'required' | 'reported'> = {};
  for (const file of sources(join(ROOT, 'apps', service, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/readiness\.register\(\s*'(\w+)'[^;]*?\);/gs)) {
      checks[match[1]] = /required:\s*false/.test(match[0]) ? 'reported' : 'required';
    }
    // libs/common's PostgresModule registers a required `postgres` check for the app that imports it.
    if (/PostgresModule\.forRoot\(/.test(text)) checks.postgres = 'required';
    const nats = /NatsModule\.forRoot\(\{[^}]*\}\)/s.exec(text);
    if (nats) checks.nats = /readinessRequired:\s*false/.test(nats[0]) ? 'reported' : 'required';
  }
  return checks;
}

const listed = (cell: string) =>
  cell.trim() === '—' || cell.trim() === 'none'
    ? []
    : cell
        .split(/,\s*|\s+and\s+/)
        .map((name) => name.trim())
        .filter(Boolean);

describe('docs/operations.md on readiness, against the code', () => {
  const code = Object.fromEntries(SERVICES_WITH_DEPENDENCIES.map((service) => [service, readinessInCode(service)]));

  it('reads a readiness check for every dependency each service uses', () => {
    expect(code['key-management']).toEqual({ nats: expect.any(String), postgres: expect.any(String) });
    expect(code['usage-tracker']).toEqual({ nats: expect.any(String), postgres: expect.any(String) });
    expect(code['auth-verifier']).toEqual({ nats: expect.any(String), redis: expect.any(String) });
    expect(Object.keys(code.gateway)).toContain('nats');
  });

  it('lists in its readiness table exactly which check takes each service out of rotation and which only degrades it', () => {
    const section = doc.slice(doc.indexOf('### Readiness'), doc.indexOf('\n## ', doc.indexOf('### Readiness')));
    const table = Object.fromEntries(
      [...section.matchAll(/^\| (gateway|key-management|auth-verifier|usage-tracker) \| ([^|]+) \| ([^|]+) \|$/gm)].map(
        ([, service, required, reported]) => [
          service,
          Object.fromEntries([
            ...listed(required).map((check) => [check, 'required']),
            ...listed(reported).map((check) => [check, 'reported']),
          ]),
        ],
      ),
    );
    expect(table).toEqual(code);
  });

  it('says, for each dependency outage, which services report not ready and which stay ready (degraded), as the code does', () => {
    for (const [dependency, check] of Object.entries(DEPENDENCIES)) {
      const row = new RegExp(`^\\| \\*\\*${dependency}\\*\\* \\|(.*)$`, 'm').exec(doc)?.[1] ?? '';
      const notReady = listed(/Not ready: ([^.]*)\./.exec(row)?.[1] ?? '(missing)').sort();
      const degraded = listed(/Ready \(degraded\): ([^.]*)\./.exec(row)?.[1] ?? '(missing)').sort();
      const expected = (state: string) => SERVICES_WITH_DEPENDENCIES.filter((service) => code[service][check] === state).sort();
      expect({ dependency, notReady, degraded }).toEqual({ dependency, notReady: expected('required'), degraded: expected('reported') });
    }
  });
});

describe('docs/operations.md, the first deploy on kind', () => {
  const section = doc.slice(
    doc.indexOf('### A first deploy on kind'),
    doc.indexOf('\n### ', doc.indexOf('### A first deploy on kind') + 5),
  );
  const commands = (/```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '').split('\n').filter((line) => line && !line.startsWith('#'));
  const dev = parse(readFileSync(join(ROOT, 'k8s/overlays/dev/kustomization.yaml'), 'utf8'));
  const devSecret = parse(readFileSync(join(ROOT, 'k8s/overlays/dev/secret.patch.yaml'), 'utf8'));

  it('walks cluster, image build and load, apply, migrate, first key and first request in paste-able commands', () => {
    const steps = [
      /^kind create cluster/,
      /^scripts\/k8s-dev-images\.sh kind/,
      /^kubectl apply -k k8s\/overlays\/dev$/,
      /wait --for=condition=complete job\/migrate/,
      /port-forward svc\/gateway/,
      /api-keys .*jq -r \.key\)$/,
      /\/api\/v1\/chat /,
    ];
    let at = -1;
    for (const step of steps) {
      const index = commands.findIndex((line, position) => position > at && step.test(line));
      expect({ step: String(step), found: index > at }).toEqual({ step: String(step), found: true });
      at = index;
    }
  });

  it("uses the dev overlay's namespace, admin token and load script as they are", () => {
    for (const line of commands.filter((command) => / -n /.test(command))) expect(line).toContain(`-n ${dev.namespace} `);
    expect(section).toContain(`Bearer ${devSecret.stringData.ADMIN_TOKEN}`);
    expect(existsSync(join(ROOT, 'scripts/k8s-dev-images.sh'))).toBe(true);
  });
});
