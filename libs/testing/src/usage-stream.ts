import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
// The defining file, not the @app/common barrel: the browser suite loads this harness without Nest's decorators.
import { usageStreamNames } from '../../common/src/usage-stream.js';
import { Subjects } from '@app/contracts';
import type { TestEnvironment } from './environment.js';

/**
 * Deletes the run's own `key.used` stream (a gateway or tracker creates it at start). Each
 * stream reserves its size limit on the server, so runs that leave theirs behind would
 * eventually starve JetStream of storage.
 */
export async function deleteRunUsageStream(env: Pick<TestEnvironment, 'natsUrl' | 'subjectPrefix'>): Promise<void> {
  const nats = await connect({ servers: env.natsUrl });
  try {
    const { stream } = usageStreamNames({ subject: (subject) => `${env.subjectPrefix}.${Subjects[subject]}` });
    await (await jetstreamManager(nats)).streams.delete(stream).catch(() => false);
  } finally {
    await nats.close();
  }
}
