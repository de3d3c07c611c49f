// A minimal TypeScript loader for spawning services from sources in tests (the build is
// not there in test runs): resolves `@app/*` and `.js` → `.ts` like jest's mapper, and
// transpiles each file on its own (isolated modules, as ts-jest does). No type checking.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, resolve as resolvePath } from 'node:path';
import ts from 'typescript';

const root = resolvePath(dirname(fileURLToPath(import.meta.url)), '../../..');
const aliases = { '@app/contracts': 'libs/contracts/src/index.ts', '@app/common': 'libs/common/src/index.ts', '@app/testing': 'libs/testing/src/index.ts' };

export async function resolve(specifier, context, next) {
  if (aliases[specifier]) return { url: pathToFileURL(resolvePath(root, aliases[specifier])).href, shortCircuit: true };
  if ((specifier.startsWith('.') || specifier.startsWith('/')) && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(candidate))) return { url: candidate.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = readFileSync(fileURLToPath(url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: {
      module: ts.ModuleKind.ES2022,
      target: ts.ScriptTarget.ES2022,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      isolatedModules: true,
      sourceMap: false,
    },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
