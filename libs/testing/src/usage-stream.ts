import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
// The defining file, not the @app/common barrel: the browser suite loads this harness without Nest's decorators.
import { usageStreamNames } from '../../common/src/usage-stream.js';
import { Subjects } from '@app/contracts';
import { deleteStreams } from '../../../scripts/run-namespace.mjs';
import type { TestEnvironment } from './environment.js';
import { eventually } from './polling.js';

/** The name of the run's own `key.used` stream (a gateway or tracker creates it at start). */
export function runUsageStream(env: Pick<TestEnvironment, 'subjectPrefix'>): string {
  return usageStreamNames({ subject: (subject) => `${env.subjectPrefix}.${Subjects[subject]}` }).stream;
}

/**
 * Deletes the run's own `key.used` stream. Each stream reserves its size limit on the server,
 * so runs that leave theirs behind would eventually starve JetStream of storage.
 */
export async function deleteRunUsageStream(env: Pick<TestEnvironment, 'natsUrl' | 'subjectPrefix'>): Promise<void> {
  await deleteStreams(env.natsUrl, [runUsageStream(env)]);
}

/**
 * Resolves once the run's usage consumer holds nothing unacknowledged: every `key.used` message
 * published so far was applied and acked, so no later (re)delivery can change a total. A total
 * read after this is final; a fixed wait past the ack wait only hoped so.
 */
export async function usageAllAcknowledged(env: Pick<TestEnvironment, 'natsUrl' | 'subjectPrefix'>, timeoutMs = 30_000): Promise<void> {
  const nats = await connect({ servers: env.natsUrl });
  try {
    const jsm = await jetstreamManager(nats);
    const stream = runUsageStream(env);
    const { durable } = usageStreamNames({ subject: (subject) => `${env.subjectPrefix}.${Subjects[subject]}` });
    await eventually(
      async () => {
        const info = await jsm.consumers.info(stream, durable);
        return { pending: info.num_pending, unacknowledged: info.num_ack_pending };
      },
      (backlog) => backlog.pending === 0 && backlog.unacknowledged === 0,
      { timeoutMs, intervalMs: 100, what: 'the usage consumer to acknowledge every message' },
    );
  } finally {
    await nats.close();
  }
}
