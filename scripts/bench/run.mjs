// Orchestrates a bench run: helper servers, the system, every scenario in turn, the report.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../system.mjs';
import { startGateway, startHelper, stopAllHelpers, stopChild } from './processes.mjs';
import { topFunctions } from './profile.mjs';
import { createChatbotKey, provisionTenant, startBenchSystem } from './system.mjs';
import { runThroughput } from './throughput.mjs';
import { writeReport } from './report.mjs';
import { load } from './load.mjs';

const here = (file) => new URL(file, import.meta.url).pathname;
const log = (line) => process.stdout.write(`${line}\n`);

export async function runBench({ quick, only, profile, out, command, machine, loadavg }) {
  const wanted = (name) => only === null || only.has(name);
  const settings = quick
    ? { rounds: 3, seconds: 3, connections: 50, verifySamples: 500, revocations: 200, manyKeys: 10_000, usageRequests: 50_000 }
    : { rounds: 5, seconds: 10, connections: 50, verifySamples: 3_000, revocations: 250, manyKeys: 100_000, usageRequests: 300_000 };
  const report = { command, machine, settings, quick, started: new Date().toISOString(), scenarios: {} };
  const note = (name, result) => {
    report.scenarios[name] = { ...result, loadavg: loadavg().map((v) => v.toFixed(2)).join(' ') };
  };
  log(`bench: load average before start ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);

  const upstream = await startHelper(here('./fast-upstream.mjs'));
  const baseline = await startHelper(here('./baseline-proxy.mjs'), { UPSTREAM_URL: upstream.url });
  const system = await startBenchSystem({ upstreamUrl: upstream.url });
  let failed = false;
  try {
    const tenant = await provisionTenant(system, 3);
    const hotKey = await createChatbotKey(system, tenant, tenant.chatbots[0].id);
    const context = { system, tenant, hotKey, upstream, baseline, settings, log };

    if (wanted('throughput')) {
      log('throughput: gateway (warm chatbot key) vs bare Fastify + undici proxy');
      note('throughput', await runThroughput({
        gatewayUrl: system.gatewayUrl,
        baselineUrl: baseline.url,
        key: hotKey.key,
        chatbotId: hotKey.chatbotId,
        ...settings,
        log,
      }));
    }
    if (profile) {
      log('profile: one more gateway replica with --cpu-prof under full load');
      note('profile', await profileGateway(context));
    }
  } catch (error) {
    failed = true;
    log(`bench failed: ${error instanceof Error ? error.stack : error}`);
    report.failure = String(error instanceof Error ? error.message : error);
  } finally {
    await system.stop();
    await stopAllHelpers();
  }
  report.finished = new Date().toISOString();
  writeReport(out, report);
  log(`bench: wrote ${out}`);
  return failed ? 1 : 0;
}

async function profileGateway({ system, hotKey, settings }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-prof-'));
  const gateway = await startGateway(system.env, await freePort(), { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  const url = `${gateway.url}/api/v1/chatbots/${hotKey.chatbotId}/messages`;
  const headers = { authorization: `Bearer ${hotKey.key}` };
  await load({ url, connections: settings.connections, duration: 2, headers });
  const result = await load({ url, connections: settings.connections, duration: settings.seconds, headers });
  await stopChild(gateway.child, 'SIGINT');
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  return { rps: result.rps, file: file ? join(dir, file) : null, top: file ? topFunctions(join(dir, file), 25) : [] };
}
