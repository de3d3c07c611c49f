// `npm test`: installs when needed, builds (the end-to-end suite runs the built services),
// makes sure PostgreSQL, Redis and NATS are up, then runs jest with any extra arguments.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './system.mjs';

const sh = (command, args) => execFileSync(command, args, { cwd: ROOT, stdio: 'inherit' });

if (!existsSync(join(ROOT, 'node_modules'))) sh('npm', ['ci']);
sh('npm', ['run', '--silent', 'build']);
sh('bash', ['scripts/ensure-infra.sh']);

const jest = spawnSync(
  process.execPath,
  ['--experimental-vm-modules', join(ROOT, 'node_modules/jest/bin/jest.js'), ...process.argv.slice(2)],
  { cwd: ROOT, stdio: 'inherit' },
);
process.exit(jest.status ?? 1);
