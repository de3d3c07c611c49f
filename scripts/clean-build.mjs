// Before `npm run build:services`: removes the services' previous output (dist/apps, dist/libs),
// so that a source moved or deleted since leaves no stale module behind to be run or shipped.
// The console's build (dist/console) is Vite's and stays.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './system.mjs';

for (const dir of ['apps', 'libs']) rmSync(join(ROOT, 'dist', dir), { recursive: true, force: true });
