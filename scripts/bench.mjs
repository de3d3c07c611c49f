// `npm run bench`: builds, starts the system from dist/ on this machine in a namespace of its own,
// runs every scenario and writes BENCHMARKS.md. `--quick` shortens every scenario (a smoke run);
// `--only a,b` runs some scenarios; `--profile` adds a CPU profile of a gateway under full load;
// `--no-build` skips `npm run build`; `--report-only` renders BENCHMARKS.md again from BENCHMARKS.json.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './system.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'BENCHMARKS.md') },
  },
});
if (args['report-only']) {
  // Renders BENCHMARKS.md again from BENCHMARKS.json (the last run's figures), e.g. after editing the report's text.
  const { readFileSync } = await import('node:fs');
  const { writeReport } = await import('./bench/report.mjs');
  writeReport(args.out, JSON.parse(readFileSync(args.out.replace(/\.md$/, '.json'), 'utf8')));
  process.exit(0);
}
if (!args['no-build']) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });

const { runBench } = await import('./bench/run.mjs');
const exitCode = await runBench({
  quick: args.quick,
  only: args.only ? new Set(args.only.split(',')) : null,
  profile: args.profile || !args.only,
  out: args.out,
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  loadavg,
});
process.exit(exitCode);
