// Scenario 6: usage events at full gateway throughput with exact totals. A fixed number of
// requests (autocannon `amount`: every one answered) across fresh keys; the upstream counts what
// it received per key id; the usage tracker's totals must reach exactly that. Then the usage
// tracker's own ingestion benchmark (scripts/bench-usage.mjs) runs as it is.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT } from '../system.mjs';
import { createChatbotKeys } from './keys.mjs';
import { load } from './load.mjs';

async function usageTotals(databaseUrl, keyIds) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query(
      'SELECT key_id, sum(count)::text AS n FROM usage.key_usage_minutes WHERE key_id = ANY($1) GROUP BY key_id',
      [keyIds],
    );
    return Object.fromEntries(result.rows.map((row) => [row.key_id, Number(row.n)]));
  } finally {
    await client.end();
  }
}

export async function runUsage({ system, bus, tenant, upstream, requests, connections, log }) {
  const keys = await createChatbotKeys(bus, tenant, 20);
  const ids = keys.map((k) => k.keyId);
  const targets = keys.map((k) => ({ path: `/api/v1/chatbots/${k.chatbotId}/messages`, key: k.key }));
  const run = await load({ url: system.gatewayUrl, connections, amount: requests, targets });
  const received = await (await fetch(`${upstream.url}/__counts`)).json();
  const forwarded = ids.reduce((sum, id) => sum + (received[id] ?? 0), 0);
  const waitStarted = performance.now();
  let counted = 0;
  while (performance.now() - waitStarted < 30_000) {
    const totals = await usageTotals(system.namespace.databaseUrl, ids);
    counted = ids.reduce((sum, id) => sum + (totals[id] ?? 0), 0);
    if (counted >= forwarded) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const settledSeconds = (performance.now() - waitStarted) / 1000;
  const result = {
    requests,
    answered200: run.ok,
    rps: run.rps,
    forwarded,
    counted,
    exact: counted === forwarded && forwarded === run.ok,
    settledSeconds,
  };
  log(
    `  ${run.ok} answered at ${Math.round(run.rps)} req/s; upstream received ${forwarded}; usage totals ${counted} (${result.exact ? 'exact' : 'NOT exact'}) ${settledSeconds.toFixed(2)} s after the last answer`,
  );
  return result;
}

/** scripts/bench-usage.mjs, run as it is; its last stdout line is its JSON result. */
export function runTrackerIngestion({ messages, uses, log }) {
  const args = [join(ROOT, 'scripts/bench-usage.mjs'), '--messages', String(messages), '--uses', String(uses)];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT, maxBuffer: 16 * 2 ** 20, timeout: 300_000 }, (error, stdout) => {
      const lines = stdout.trim().split('\n');
      for (const line of lines.slice(0, -1)) log(`  ${line}`);
      try {
        resolve({
          command: `node scripts/bench-usage.mjs --messages ${messages} --uses ${uses}`,
          exitCode: error?.code ?? 0,
          ...JSON.parse(lines.at(-1)),
        });
      } catch {
        reject(error ?? new Error(`bench-usage printed no result: ${stdout}`));
      }
    });
  });
}
