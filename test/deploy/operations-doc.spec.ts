import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readCompose, ROOT } from './deploy-files.js';

const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
/** Upper-case names in the doc that are not variables: the JetStream stream of key.used. */
const NOT_VARIABLES = new Set(['KEY_USED']);

/** Every variable a service's config schema (or the shared base schema) reads. */
function configVariables(): Set<string> {
  const sources = [
    join(ROOT, 'libs/common/src/config.ts'),
    join(ROOT, 'libs/common/src/nats-credentials.ts'),
    join(ROOT, 'libs/common/src/migrations.ts'),
    ...readdirSync(join(ROOT, 'apps')).map((app) => join(ROOT, 'apps', app, 'src/config.ts')),
  ].filter((path) => existsSync(path));
  const names = sources.flatMap((path) => [...readFileSync(path, 'utf8').matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1]));
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
    const named = [...doc.matchAll(/`([A-Z][A-Z0-9]*_[A-Z0-9_]+)(?:=[^`]*)?`/g)].map((match) => match[1]).filter((name) => !NOT_VARIABLES.has(name));
    expect(named.length).toBeGreaterThan(5);
    for (const variable of named) expect({ variable, known: known.has(variable) }).toEqual({ variable, known: true });
  });

  it('describes the compose defaults as they are', () => {
    const gateway = readCompose({}).services.gateway;
    expect(doc).toContain(`\`${gateway.ports[0].split(':').slice(0, 2).join(':')}\``);
  });
});
