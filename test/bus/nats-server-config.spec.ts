import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { usageStreamNames } from '@app/common';
import { Subjects } from '@app/contracts';
import { renderNatsServerConfig, SHIPPED_NATS_CONFIG } from '../../scripts/nats-server-config.mjs';

const PASSWORDS = Object.fromEntries(
  ['GATEWAY', 'KEY_MANAGEMENT', 'AUTH_VERIFIER', 'USAGE_TRACKER', 'INTERNAL_SERVICE'].map((user) => [
    `NATS_${user}_PASSWORD`,
    'pdevelopment0',
  ]),
);

/** `nats-server -t`: parses the file the way the server would at start, without starting. */
function serverAccepts(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'nats-config-')), 'nats-server.conf');
  writeFileSync(file, text);
  return execFileSync('nats-server', ['-t', '-c', file], { env: { ...process.env, ...PASSWORDS }, encoding: 'utf8', stdio: 'pipe' });
}

describe('the shipped NATS server configuration', () => {
  const shipped = readFileSync(SHIPPED_NATS_CONFIG, 'utf8');

  it('is accepted by nats-server as shipped', () => {
    expect(() => serverAccepts(shipped)).not.toThrow();
  });

  it('renders for a subject prefix: every application subject prefixed, the stream named as the services name it', () => {
    const prefix = 'staging';
    const rendered = renderNatsServerConfig(shipped, prefix);
    const { stream, subject, batchSubject } = usageStreamNames({ subject: (name) => `${prefix}.${Subjects[name]}` });

    expect(() => serverAccepts(rendered)).not.toThrow();
    expect(rendered).toContain('"staging.auth.verify"');
    expect(rendered).toContain('"staging.keys.events.>"');
    expect(rendered).toContain(`"$JS.API.STREAM.CREATE.${stream}"`);
    expect(rendered).toContain(`"$JS.ACK.${stream}.usage-tracker.>"`);
    // Both usage subjects exactly as the services publish them, and the tracker's consumer API on the renamed stream.
    expect(rendered).toContain(`"${subject}"`);
    expect(rendered).toContain(`"${batchSubject}"`);
    expect(rendered).toContain(`"$JS.API.CONSUMER.DELETE.${stream}.usage-tracker"`);
    expect(rendered).toContain('"_INBOX_gateway.>"');
    const quoted = rendered
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'))
      .flatMap((line) => [...line.matchAll(/"([^"]+)"/g)].map((match) => match[1]));
    expect(quoted.filter((subject) => !/^(staging\.|\$JS\.|_INBOX)/.test(subject))).toEqual([]);
  });

  it('refuses a prefix that is not a subject prefix', () => {
    expect(() => renderNatsServerConfig(shipped, 'a b')).toThrow(/prefix/);
  });
});
