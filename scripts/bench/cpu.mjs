// CPU time by process group, read from /proc (Linux): where a scenario's CPU went, per request.
// Groups: the bench process itself (load generator), each service by its dist entry, helper scripts
// by file name, and the servers by command name. Elsewhere than Linux every snapshot is null.
//
// With a scope (`cpuScope`), only this run's processes count, so that other work on a shared machine
// does not: node processes of this checkout, PostgreSQL backends of the run's database, and the NATS
// and Redis servers listening on the run's ports (a server shared with other work is still counted whole:
// give the run a server of its own, e.g. NATS_URL, to measure it alone).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { ROOT } from '../system.mjs';

const TICKS_PER_SECOND = 100;
const SERVERS = new Set(['nats-server', 'postgres', 'redis-server']);

/** The processes of one bench run: see the file comment. */
export function cpuScope(namespace) {
  const port = (url, fallback) => new URL(url).port || fallback;
  return {
    database: new URL(namespace.databaseUrl).pathname.slice(1),
    natsPort: port(namespace.natsUrl, '4222'),
    redisPort: port(namespace.redisUrl, '6379'),
  };
}

function inScope(pid, command, cmdline, scope) {
  if (!scope) return true;
  const args = cmdline.split('\0');
  if (command === 'postgres') return args[0].split(' ').includes(scope.database);
  if (command === 'nats-server') return args.some((arg, i) => (arg === '-p' || arg === '--port') && args[i + 1] === scope.natsPort);
  if (command === 'redis-server') return args[0].endsWith(`:${scope.redisPort}`) || args.includes(scope.redisPort);
  if (cmdline.includes(ROOT)) return true;
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === ROOT;
  } catch {
    return false;
  }
}

function groupOf(pid, command, cmdline) {
  if (pid === process.pid) return 'load generator (bench process)';
  if (SERVERS.has(command)) return command;
  if (command !== 'node') return null;
  const service = /dist\/apps\/([^/]+)\/src\/main\.js/.exec(cmdline);
  if (service) return service[1];
  const script = cmdline.split('\0').find((arg) => arg.endsWith('.mjs'));
  return script ? basename(script, '.mjs') : null;
}

/** CPU seconds (user + system) of every process of a known group (of the run, given a scope), by pid. */
export function cpuSnapshot(scope) {
  let pids;
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const processes = new Map();
  for (const name of pids) {
    const pid = Number(name);
    let stat;
    let cmdline;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ..." — comm may hold spaces; the fields after its closing parenthesis are fixed.
    const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const group = pid === process.pid || inScope(pid, command, cmdline, scope) ? groupOf(pid, command, cmdline) : null;
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "(comm)".
    if (group) processes.set(pid, { group, seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND });
  }
  return processes;
}

/**
 * CPU seconds each group spent between two snapshots, process by process: one that started
 * meanwhile counts from zero; one that exited meanwhile (a database backend) loses its last share.
 */
export function cpuSpent(before, after) {
  if (!before || !after) return null;
  const spent = {};
  for (const [pid, { group, seconds }] of after) spent[group] = (spent[group] ?? 0) + seconds - (before.get(pid)?.seconds ?? 0);
  return spent;
}
