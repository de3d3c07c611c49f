// `npm test`: installs when needed, builds (the end-to-end suites run the built services and the
// built console), makes sure PostgreSQL, Redis and NATS are there (scripts/test-services.mjs), then runs jest with any extra
// arguments and, unless those name particular specs, the console's browser suite (Playwright).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './system.mjs';
import { serviceVariables, startTestServices } from './test-services.mjs';

const sh = (command, args) => execFileSync(command, args, { cwd: ROOT, stdio: 'inherit' });

if (!existsSync(join(ROOT, 'node_modules'))) sh('npm', ['ci']);
sh('npm', ['run', '--silent', 'build']);
// Containers where a container engine answers, else the local services (started here when they
// are installed but stopped). Started once for jest and the browser suite alike, which then find
// them in DATABASE_URL, REDIS_URL and NATS_URL like any other services.
const services = await startTestServices();
if (services.kind === 'environment') sh('bash', ['scripts/ensure-infra.sh']);
Object.assign(process.env, serviceVariables(services.urls), { TEST_SERVICES: 'environment' });

// `npm test -- apps/gateway/src/data-plane` runs those specs only; `npm test -- test/browser`
// runs the browser suite only; with no paths, both run.
const args = process.argv.slice(2);
const paths = args.filter((arg) => !arg.startsWith('-'));
const browserOnly = paths.length > 0 && paths.every((path) => path.startsWith('test/browser'));
const run = (script, scriptArgs) => spawnSync(process.execPath, [...script, ...scriptArgs], { cwd: ROOT, stdio: 'inherit' }).status ?? 1;

const jestStatus = browserOnly ? 0 : run(['--experimental-vm-modules', join(ROOT, 'node_modules/jest/bin/jest.js')], args);
const browserStatus = paths.length === 0 || browserOnly ? run([join(ROOT, 'node_modules/@playwright/test/cli.js'), 'test'], []) : 0;
await services.stop();
process.exit(jestStatus || browserStatus);
