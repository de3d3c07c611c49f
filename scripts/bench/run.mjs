// Orchestrates a bench run: helper servers, the system, every scenario in turn, the report.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../system.mjs';
import { startGateway, startHelper, stopAllHelpers, stopChild } from './processes.mjs';
import { summarizeProfile } from './profile.mjs';
import { createChatbotKey, provisionTenant, startBenchSystem } from './system.mjs';
import { runThroughput } from './throughput.mjs';
import { writeReport } from './report.mjs';
import { load } from './load.mjs';
import { connectBus } from './keys.mjs';
import { runVerifyLatency } from './verify-latency.mjs';
import { runRevocation } from './revocation.mjs';
import { runLifecyclePropagation } from './lifecycle.mjs';
import { runManyKeys } from './many-keys.mjs';
import { runTrackerIngestion, runUsage } from './usage.mjs';
import { runRedisMemory } from './redis-memory.mjs';
import { runUsageStorage } from './usage-storage.mjs';
import { runRateLimit } from './rate-limit.mjs';

const here = (file) => new URL(file, import.meta.url).pathname;
const log = (line) => process.stdout.write(`${line}\n`);

export async function runBench({ quick, only, profile, out, command, machine, loadavg }) {
  const wanted = (name) => only === null || only.has(name);
  const settings = quick
    ? {
        rounds: 3,
        seconds: 3,
        connections: 50,
        verifySamples: 500,
        revocations: 200,
        lifecycleChanges: 20,
        manyKeys: 10_000,
        manyKeysRounds: 3,
        manyKeysColdSeconds: 20,
        usageRequests: 50_000,
        trackerMessages: 50_000,
        trackerUses: 200_000,
        rateLimitSeconds: 5,
      }
    : {
        rounds: 5,
        seconds: 8,
        connections: 50,
        verifySamples: 2_000,
        revocations: 250,
        lifecycleChanges: 100,
        manyKeys: 100_000,
        manyKeysRounds: 11,
        // The cold pass (every request a miss) runs at ~600-700 req/s here: 200 s reach 100,000 keys.
        manyKeysColdSeconds: 200,
        usageRequests: 200_000,
        trackerMessages: 200_000,
        trackerUses: 500_000,
        rateLimitSeconds: 10,
      };
  const report = { command, machine, settings, quick, started: new Date().toISOString(), scenarios: {} };
  const note = (name, result) => {
    report.scenarios[name] = {
      ...result,
      loadavg: loadavg()
        .map((v) => v.toFixed(2))
        .join(' '),
    };
  };
  report.loadavgStart = loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
  log(
    `bench: load average before start ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  );

  let failed = false;
  let bus;
  let system;
  try {
    // Needs no running system: a database of its own and the tracker's code.
    if (wanted('usage-storage')) {
      const keys = quick ? 200 : 2_000;
      log(`usage-storage: ${keys} keys × 1 day of minute rows, before and after rollup and retention (scaled to 100,000 keys)`);
      note('usageStorage', await runUsageStorage({ keys, log }));
    }
    const upstream = await startHelper(here('./fast-upstream.mjs'));
    const baseline = await startHelper(here('./baseline-proxy.mjs'), { UPSTREAM_URL: upstream.url });
    system = await startBenchSystem({ upstreamUrl: upstream.url });
    bus = await connectBus(system);
    const tenant = await provisionTenant(system, 3);
    const hotKey = await createChatbotKey(system, tenant, tenant.chatbots[0].id);
    const context = { system, bus, tenant, hotKey, upstream, baseline, settings, log };

    if (wanted('throughput')) {
      log('throughput: gateway (warm chatbot key) vs bare Fastify + undici proxy');
      note(
        'throughput',
        await runThroughput({
          gatewayUrl: system.gatewayUrl,
          gatewayMetricsUrl: system.gatewayMetricsUrl,
          baselineUrl: baseline.url,
          key: hotKey.key,
          chatbotId: hotKey.chatbotId,
          ...settings,
          log,
        }),
      );
    }
    if (wanted('verify')) {
      log('verify: auth.verify round trips on a gateway cache miss, one at a time');
      note('verify', await runVerifyLatency({ ...context, samples: settings.verifySamples }));
    }
    if (wanted('revocation')) {
      log(`revocation: ${settings.revocations} keys, 3 gateway replicas`);
      note('revocation', await runRevocation({ ...context, count: settings.revocations }));
    }
    if (wanted('lifecycle')) {
      log(`lifecycle: expiry, disable and roll cut-off, ${settings.lifecycleChanges} keys each, 3 gateway replicas`);
      note('lifecycle', await runLifecyclePropagation({ ...context, count: settings.lifecycleChanges }));
    }
    if (wanted('usage')) {
      log(`usage: ${settings.usageRequests} requests at full throughput, totals checked`);
      note('usage', await runUsage({ ...context, requests: settings.usageRequests, connections: settings.connections }));
      log('usage: tracker ingestion (scripts/bench-usage.mjs)');
      note('tracker', await runTrackerIngestion({ messages: settings.trackerMessages, uses: settings.trackerUses, log }));
    }
    if (wanted('many-keys')) {
      log(`many-keys: ${settings.manyKeys} active keys`);
      note(
        'manyKeys',
        await runManyKeys({
          ...context,
          count: settings.manyKeys,
          seconds: settings.seconds,
          coldSeconds: settings.manyKeysColdSeconds,
          connections: settings.connections,
          rounds: settings.manyKeysRounds,
          profile,
        }),
      );
    }
    if (wanted('redis-memory')) {
      log(`redis-memory: ${settings.manyKeys} keys' verifier cache entries and rate-limit counts`);
      note('redisMemory', await runRedisMemory({ keys: settings.manyKeys, log }));
    }
    if (wanted('rate-limit')) {
      log('rate-limit: a limited key against an unlimited one, and the limit held across 3 gateway replicas');
      note('rateLimit', await runRateLimit(context));
    }
    if (profile) {
      log('profile: one more gateway replica with --cpu-prof under full load');
      note('profile', await profileGateway(context));
    }
  } catch (error) {
    failed = true;
    log(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
    report.failure = String(error instanceof Error ? error.message : error);
  } finally {
    await bus?.close();
    await system?.stop();
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
  const loadEnded = performance.now();
  await stopChild(gateway.child, 'SIGINT');
  const shutdownSeconds = (performance.now() - loadEnded) / 1000;
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  return {
    rps: result.rps,
    file: file ? join(dir, file) : null,
    ...(file ? summarizeProfile(join(dir, file), { windowSeconds: settings.seconds, skipEndSeconds: shutdownSeconds }) : {}),
  };
}
