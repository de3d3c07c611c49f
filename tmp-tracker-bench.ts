import { parseUsageBatch, aggregateUses } from './apps/usage-tracker/src/ingest/usage-batch.js';
const at = Date.parse('2026-03-01T10:15:42.123Z');
const id = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const body = JSON.stringify({ uses: Array.from({ length: 250 }, (_, i) => [id(i), id(i + 7), at + i, 1, 0]) });
const time = (name: string, n: number, f: () => unknown) => { for (let i = 0; i < n / 10; i++) f(); const t = performance.now(); for (let i = 0; i < n; i++) f(); console.log(name, ((performance.now() - t) * 1000 / n).toFixed(1), 'µs/call'); };
time('parse 250', 2000, () => parseUsageBatch(1, body));
time('JSON.parse 250', 2000, () => JSON.parse(body));
const uses = [] as any[]; for (let b = 0; b < 4; b++) { const p = parseUsageBatch(b, body); if (p.ok) uses.push(...p.uses.map((u) => ({ ...u, keyId: id(b * 250 + Number(u.keyId.slice(-6))) }))); }
time('aggregate 1000', 500, () => aggregateUses(uses));
const agg = aggregateUses(uses);
time('stringify 1000 buckets', 500, () => JSON.stringify(agg.buckets));
