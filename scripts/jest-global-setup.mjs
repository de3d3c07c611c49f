// Before a test run: delete `key.used` streams that earlier runs left behind (a run killed
// before its cleanup). Every stream reserves its size limit on the server, so leftovers would
// eventually starve JetStream of storage. A run's stream is named after its run id,
// `t<base36 start time><8 hex>_KEY_USED`; only those older than STALE_AFTER_MS are touched.
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

const RUN_STREAM = /^t([0-9a-z]+)[0-9a-f]{8}_KEY_USED$/;
const STALE_AFTER_MS = 30 * 60_000;

export default async function deleteStaleRunStreams() {
  let nats;
  try {
    nats = await connect({ servers: process.env.NATS_URL || 'nats://127.0.0.1:4222', timeout: 2000 });
  } catch {
    return; // no shared NATS: nothing to clean, and the suites say so themselves
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
