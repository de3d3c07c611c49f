// Renders the shipped NATS server configuration (k8s/nats/nats-server.conf) for a
// NATS_SUBJECT_PREFIX: every application subject in the permission lists gets the prefix, and the
// key.used stream's name in JetStream API subjects becomes `<prefix with _>_KEY_USED`, as the
// services name it (the stream holds `<prefix>.key.used` and `<prefix>.key.used.batch`, so both
// usage subjects are prefixed like any other). Inbox subjects stay as they are.
//
//   node scripts/nats-server-config.mjs --prefix staging > nats-server.conf
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHIPPED_NATS_CONFIG = join(dirname(fileURLToPath(import.meta.url)), '..', 'k8s', 'nats', 'nats-server.conf');
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function renderNatsServerConfig(text, prefix) {
  if (!prefix) return text;
  if (!PREFIX.test(prefix)) throw new Error('the prefix must be dot-separated NATS tokens (as NATS_SUBJECT_PREFIX)');
  const stream = `${prefix.replace(/\./g, '_')}_KEY_USED`;
  const subject = (value) => {
    if (value.startsWith('_INBOX')) return value;
    if (value.startsWith('$JS.'))
      return value
        .split('.')
        .map((token) => (token === 'KEY_USED' ? stream : token))
        .join('.');
    return `${prefix}.${value}`;
  };
  return text
    .split('\n')
    .map((line) => (line.trimStart().startsWith('#') ? line : line.replace(/"([^"]+)"/g, (_, value) => `"${subject(value)}"`)))
    .join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--prefix');
  const prefix = at === -1 ? '' : process.argv[at + 1];
  process.stdout.write(renderNatsServerConfig(readFileSync(SHIPPED_NATS_CONFIG, 'utf8'), prefix));
}
