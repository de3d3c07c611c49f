// Before `npm run build:services` (here and in the image build): removes the services' previous
// output (dist/apps, dist/libs), so that a source moved or deleted since leaves no stale module
// behind to be run or shipped. The console's build (dist/console) is Vite's and stays.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

for (const dir of ['apps', 'libs']) rmSync(fileURLToPath(new URL(`../dist/${dir}`, import.meta.url)), { recursive: true, force: true });
