import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import ts from 'typescript';
import { ROOT } from './deploy-files.js';

/**
 * The production build (`npm run build:services`, what every image runs) holds no test code:
 * no spec, no test harness, nothing that loads a test framework. Checked twice: on what the
 * compiler takes into the build (tsc follows imports, so a production file importing a harness
 * would pull it in whatever tsconfig.build.json excludes), and on the dist/ that `npm test`
 * builds before jest runs (`npm run build:services` first when running this spec alone).
 */

/** Modules only tests load. */
const TEST_MODULES = [
  /^jest$/,
  /^@jest\//,
  /^@nestjs\/testing$/,
  /^testcontainers$/,
  /^@testcontainers\//,
  /^fast-check$/,
  /^@app\/testing$/,
];
/** Repository paths that are test code, or that the image does not carry (scripts/, test/). */
const TEST_PATHS = [/\.spec\.[cm]?[jt]s$/, /\.e2e-spec\.[cm]?[jt]s$/, /(^|\/)testing\//, /(^|\/)test\//, /^scripts\//, /^libs\/testing\//];

const isTestPath = (path: string) => TEST_PATHS.some((pattern) => pattern.test(path));
const repoPath = (path: string) => relative(ROOT, path).split(sep).join('/');

/** Every module a file imports or re-exports, static and dynamic. */
function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName);
}

/** The import that makes a file test code, if any: a test module, or a file at a test path (relative to `root`). */
function testImportOf(root: string, file: string, text: string): string | undefined {
  return importsOf(text).find(
    (specifier) =>
      TEST_MODULES.some((pattern) => pattern.test(specifier)) ||
      (specifier.startsWith('.') &&
        isTestPath(
          relative(root, join(file, '..', specifier))
            .split(sep)
            .join('/'),
        )),
  );
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('the production build', () => {
  it('compiles production sources only: no spec, no harness, no test framework, however they are imported', () => {
    const config = ts.getParsedCommandLineOfConfigFile(
      join(ROOT, 'tsconfig.build.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
          throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
        },
      },
    )!;
    const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
    const compiled = program
      .getSourceFiles()
      .filter((file) => !program.isSourceFileFromExternalLibrary(file) && !file.fileName.includes('/node_modules/'))
      .map((file) => ({ path: repoPath(file.fileName), testImport: testImportOf(ROOT, file.fileName, file.text) }));

    expect(compiled.length).toBeGreaterThan(50);
    expect(compiled.map(({ path }) => path)).toEqual(expect.arrayContaining(['apps/gateway/src/main.ts', 'libs/common/src/index.ts']));
    expect(compiled.filter(({ path }) => isTestPath(path)).map(({ path }) => path)).toEqual([]);
    expect(compiled.filter((file) => file.testImport)).toEqual([]);
  });

  it('leaves dist/ without test code (after `npm run build:services`)', () => {
    const dist = join(ROOT, 'dist');
    expect({ built: existsSync(join(dist, 'apps/gateway/src/main.js')) }).toEqual({ built: true });
    const output = ['apps', 'libs'].flatMap((dir) => (existsSync(join(dist, dir)) ? filesUnder(join(dist, dir)) : []));
    const paths = output.map((path) => relative(dist, path).split(sep).join('/'));
    expect(paths.filter(isTestPath)).toEqual([]);
    const scripts = output.filter((path) => path.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(50);
    const offenders = scripts
      .map((path) => ({ path: relative(dist, path), testImport: testImportOf(dist, path, readFileSync(path, 'utf8')) }))
      .filter((file) => file.testImport);
    expect(offenders).toEqual([]);
  });
});
