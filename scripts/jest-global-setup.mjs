// Before a test run: picks the services the suites use (scripts/test-services.mjs: containers
// where a container engine answers, else DATABASE_URL, REDIS_URL and NATS_URL) and names them in
// those variables, which the test workers inherit. Then deletes `key.used` streams that earlier
// runs left behind (a run killed before its cleanup): every stream reserves its size limit on
// the server, so leftovers would eventually starve JetStream of storage. A run's stream is named
// after its run id, `t<base36 start time><8 hex>_KEY_USED`; only those older than
// STALE_AFTER_MS are touched.
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { serviceVariables, startTestServices } from './test-services.mjs';

const RUN_STREAM = /^t([0-9a-z]+)[0-9a-f]{8}_KEY_USED$/;
const STALE_AFTER_MS = 30 * 60_000;

export default async function globalSetup() {
  const services = await startTestServices();
  // Read by jest-global-teardown.mjs, which runs in this same process.
  globalThis.testServices = services;
  Object.assign(process.env, serviceVariables(services.urls));
  if (services.kind === 'containers') console.log(`\ntest services: containers (${Object.values(services.urls).join(', ')})`);
  await deleteStaleRunStreams(services.urls.natsUrl);
}

async function deleteStaleRunStreams(natsUrl) {
  let nats;
  try {
    nats = await connect({ servers: natsUrl, timeout: 2000 });
  } catch {
    return; // no NATS: nothing to clean, and the suites say so themselves
  }
  try {
    const jsm = await jetstreamManager(nats);
    for await (const stream of jsm.streams.list()) {
      const match = RUN_STREAM.exec(stream.config.name);
      if (match && Date.now() - parseInt(match[1], 36) > STALE_AFTER_MS) {
        await jsm.streams.delete(stream.config.name).catch(() => false);
      }
    }
  } finally {
    await nats.close();
  }
}
