// Reads a V8 .cpuprofile and lists where the time went: self time per function and per package,
// heaviest first, over the last `windowSeconds` of the profile (the load, not the start-up).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../system.mjs';

/** `source`: a .cpuprofile file's path, or the profile itself (as the inspector returns it). */
export function summarizeProfile(source, { windowSeconds = Infinity, skipEndSeconds = 0, limit = 25 } = {}) {
  const profile = typeof source === 'string' ? JSON.parse(readFileSync(source, 'utf8')) : source;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const times = [];
  let t = profile.startTime;
  for (const delta of profile.timeDeltas) times.push((t += delta));
  const end = profile.endTime - skipEndSeconds * 1e6;
  const start = end - windowSeconds * 1e6;
  const byFunction = new Map();
  const byPackage = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    if (times[i] < start || times[i] > end) return;
    total++;
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const where = shortUrl(url);
    const name = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + 1);
    const pkg = packageOf(where, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + 1);
  });
  const top = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, count]) => ({ name, percent: (100 * count) / total }));
  return { samples: total, functions: top(byFunction), packages: top(byPackage) };
}

function shortUrl(url) {
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith(ROOT) ? relative(ROOT, path).replace(/^node_modules\//, '') : path;
}

function packageOf(where, functionName) {
  if (!where) return functionName.startsWith('(') ? functionName : '(native)';
  if (where.startsWith('node:')) return 'node core';
  if (where.startsWith('dist/')) return where.split('/').slice(1, 4).join('/');
  const parts = where.split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}
