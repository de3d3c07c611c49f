import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { SERVICES } from '../../scripts/system.mjs';
import { ROOT } from './deploy-files.js';

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Instructions of a Dockerfile: comments dropped, `\` continuations joined, FROM split into stages. */
function parseDockerfile(text: string): { globalArgs: Record<string, string>; stages: Stage[] } {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line) as RegExpExecArray;
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args.replace(/--platform=\S+\s+/, '')) as RegExpExecArray;
      const from = image.replace(/\$\{?(\w+)\}?/g, (_, arg: string) => globalArgs[arg] ?? '');
      stages.push({ name: name ?? String(stages.length), from, instructions: [] });
    } else if (!stages.length && upper === 'ARG') {
      const [name, value = ''] = args.split('=');
      globalArgs[name] = value;
    } else {
      stages.at(-1)?.instructions.push({ keyword: upper, args });
    }
  }
  return { globalArgs, stages };
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const stageNamed = (name: string) => dockerfile.stages.find((stage) => stage.name === name);

/** The stage chain from `stage` up to its external image: [stage, parent, ...]. */
function lineage(stage: Stage): Stage[] {
  const parent = stageNamed(stage.from);
  return parent ? [stage, ...lineage(parent)] : [stage];
}

function effective(stage: Stage, keyword: string): string | undefined {
  for (const ancestor of lineage(stage)) {
    const found = ancestor.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);
    if (found) return found.args;
  }
  return undefined;
}

/** What COPY instructions take from the build context (not from another stage): every argument but the destination. */
function contextCopySources(instructions: Instruction[]): string[] {
  return instructions
    .filter((instruction) => instruction.keyword === 'COPY' && !/--from=/.test(instruction.args))
    .flatMap((instruction) =>
      instruction.args
        .replace(/--\S+\s+/g, '')
        .split(/\s+/)
        .slice(0, -1),
    );
}

const baseImage = (stage: Stage) => lineage(stage).at(-1)!.from;
const TARGETS = [...SERVICES.map((service) => service.name), 'migrate'];

describe('Dockerfile', () => {
  it('is a multi-stage build on a current Node LTS slim image', () => {
    const external = dockerfile.stages.filter((stage) => !stageNamed(stage.from));
    expect(external.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) {
      const [, major] = /^node:(\d+)-[a-z]+-slim$/.exec(baseImage(stage)) ?? [];
      expect({ stage: stage.name, image: baseImage(stage), lts: Number(major) >= 22 && Number(major) % 2 === 0 }).toEqual({
        stage: stage.name,
        image: baseImage(stage),
        lts: true,
      });
    }
  });

  it('has one target per service, plus the migration, each running its dist entry as a non-root user', () => {
    for (const target of TARGETS) {
      const stage = stageNamed(target);
      expect(stage).toBeDefined();
      const user = effective(stage!, 'USER');
      expect({ target, user }).toEqual({ target, user: expect.stringMatching(/^(?!(root|0)(:|$))\S+$/) });
      const command = JSON.parse(effective(stage!, 'CMD') ?? 'null') as string[];
      const service = SERVICES.find((candidate) => candidate.name === target);
      const entry = service ? `dist/${service.entry}` : 'scripts/migrate.mjs';
      expect({ target, command }).toEqual({ target, command: ['node', entry] });
    }
    // The source of every entry the targets run exists, so the build produces it.
    for (const service of SERVICES) expect(existsSync(join(ROOT, service.entry.replace(/\.js$/, '.ts')))).toBe(true);
  });

  it('ships production dependencies only: node_modules come from a stage pruned with --omit=dev after the build', () => {
    for (const target of TARGETS) {
      const chain = lineage(stageNamed(target)!);
      const copies = chain.flatMap((stage) =>
        stage.instructions.filter((instruction) => instruction.keyword === 'COPY' && /node_modules/.test(instruction.args)),
      );
      expect(copies.length).toBeGreaterThan(0);
      for (const copy of copies) {
        const source = stageNamed(/--from=(\S+)/.exec(copy.args)?.[1] ?? '');
        expect(source).toBeDefined();
        const runs = source!.instructions.filter((instruction) => instruction.keyword === 'RUN').map((run) => run.args);
        const built = runs.findIndex((run) => /npm run build/.test(run));
        const pruned = runs.findIndex((run) => /npm (prune|ci|install)\b.*--omit=dev/.test(run));
        expect({ built: built >= 0, pruned: pruned >= 0 }).toEqual({ built: true, pruned: true });
        // The build itself needs the dev dependencies (tsc), so the prune follows it.
        expect(runs.slice(built).some((run) => /--omit=dev/.test(run))).toBe(true);
      }
      // No target installs anything itself.
      for (const stage of chain) {
        expect(
          stage.instructions.some((instruction) => instruction.keyword === 'RUN' && /npm (ci|install|i)\b/.test(instruction.args)),
        ).toBe(false);
      }
    }
  });

  it('copies only what .dockerignore lets into the build context, and keeps local files out of it', () => {
    const ignored = dockerIgnore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
    const contextSources = contextCopySources(dockerfile.stages.flatMap((stage) => stage.instructions));
    expect(contextSources.length).toBeGreaterThan(0);
    for (const source of contextSources) {
      expect({ source, ignored: ignored(source.replace(/^\.\//, '').replace(/\/$/, '')) }).toEqual({ source, ignored: false });
      expect(existsSync(join(ROOT, source))).toBe(true);
    }
    for (const local of ['.env', '.git', 'node_modules', 'dist', 'coverage', 'test', 'k8s']) {
      expect({ local, ignored: ignored(local) }).toEqual({ local, ignored: true });
    }
  });

  it('keeps test code out of the build context: specs, apps/*/test and libs/testing never reach a layer', () => {
    const ignored = dockerIgnore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
    const testCode = [
      'apps/gateway/src/rate-limit/key-rate-limiter.spec.ts',
      'apps/key-management/src/keys/keys.service.spec.ts',
      'apps/gateway/test/rate-limit/replica-simulation.ts',
      'apps/key-management/test/key-management.harness.ts',
      'libs/testing/src/index.ts',
      'libs/common/src/nats-credentials.spec.ts',
      'scripts/test.mjs',
    ];
    for (const path of testCode) expect({ path, ignored: ignored(path) }).toEqual({ path, ignored: true });
    for (const path of ['apps/gateway/src/main.ts', 'libs/common/src/index.ts', 'libs/contracts/src/index.ts', 'scripts/migrate.mjs']) {
      expect({ path, ignored: ignored(path) }).toEqual({ path, ignored: false });
    }
  });

  it('copies into the build stage every repository script the build runs', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const buildScripts = Object.entries(scripts).filter(([name]) => name === 'build' || name.startsWith('build:'));
    const used = [
      ...new Set(buildScripts.flatMap(([, command]) => [...command.matchAll(/\bscripts\/[\w./-]+/g)].map((match) => match[0]))),
    ];
    expect(used.length).toBeGreaterThan(0);
    const build = dockerfile.stages.find((stage) => stage.instructions.some((instruction) => /npm run build/.test(instruction.args)))!;
    const copied = contextCopySources(build.instructions);
    for (const script of used) expect({ script, copied: copied.includes(script) }).toEqual({ script, copied: true });
  });

  it('gives the runtime image only the pruned dependencies, the build output and the migration runner', () => {
    for (const target of TARGETS) {
      const copies = lineage(stageNamed(target)!)
        .filter(
          (stage) => !stage.instructions.some((instruction) => instruction.keyword === 'RUN' && /npm run build/.test(instruction.args)),
        )
        .flatMap((stage) => stage.instructions.filter((instruction) => instruction.keyword === 'COPY'))
        .flatMap((instruction) => {
          const from = /--from=(\S+)/.exec(instruction.args)?.[1] ?? 'context';
          const sources = instruction.args
            .replace(/--\S+\s+/g, '')
            .split(/\s+/)
            .slice(0, -1);
          return sources.map((source) => `${from}:${source.replace(/^\.\//, '')}`);
        });
      expect({ target, copies: copies.sort() }).toEqual({
        target,
        copies: [
          'build:/app/dist',
          'build:/app/node_modules',
          'build:/app/package.json',
          'context:scripts/migrate.mjs',
          'context:scripts/system.mjs',
        ],
      });
    }
  });
});

/** .dockerignore matching (last matching rule wins; `!` re-includes; a match on a parent folder counts). */
function dockerIgnore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = (negated ? line.slice(1) : line).replace(/^\/|\/$/g, '');
      const source = pattern
        .split('/')
        .map((part) =>
          part === '**'
            ? '.*'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/');
      return { negated, regex: new RegExp(`^${source}$`) };
    });
  return (path) => {
    const parts = path.split('/');
    const candidates = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
    let ignored = false;
    for (const rule of rules) {
      if (candidates.some((candidate) => rule.regex.test(candidate))) ignored = !rule.negated;
    }
    return ignored;
  };
}
