// Reads a V8 .cpuprofile and lists where the time went: self time per function, heaviest first.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../system.mjs';

export function topFunctions(file, limit = 20) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const hits = new Map(profile.nodes.map((node) => [node.id, 0]));
  for (const id of profile.samples) hits.set(id, hits.get(id) + 1);
  const total = profile.samples.length;
  const byFunction = new Map();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits.get(node.id));
  }
  return [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, count]) => ({ name, percent: (100 * count) / total }));
}

function shortUrl(url) {
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith(ROOT) ? relative(ROOT, path).replace(/^node_modules\//, '') : path;
}
