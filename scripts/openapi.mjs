// `node scripts/openapi.mjs`: writes docs/openapi.json from the built gateway (run `npm run build` first).
// `node scripts/openapi.mjs --check` exits 1 when the committed file differs from what the code generates.
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const { generateOpenApiDocument } = await import(join(ROOT, 'dist/apps/gateway/src/openapi/generate-openapi.js'));
const { serialiseOpenApiDocument } = await import(join(ROOT, 'dist/apps/gateway/src/openapi/openapi-document.js'));

const target = join(ROOT, 'docs/openapi.json');
const generated = serialiseOpenApiDocument(await generateOpenApiDocument());
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // missing: stale
  }
  if (committed !== generated) {
    process.stderr.write('docs/openapi.json is stale: run `npm run build && node scripts/openapi.mjs`\n');
    process.exit(1);
  }
} else {
  writeFileSync(target, generated);
  process.stdout.write(`wrote ${target}\n`);
}
