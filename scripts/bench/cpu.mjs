// CPU time by process group, read from /proc (Linux): where a scenario's CPU went, per request.
// Groups: the bench process itself (load generator), each service by its dist entry, helper scripts
// by file name, and the servers by command name. Elsewhere than Linux every snapshot is null.
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

const TICKS_PER_SECOND = 100;
const SERVERS = new Set(['nats-server', 'postgres', 'redis-server']);

function groupOf(pid, command, cmdline) {
  if (pid === process.pid) return 'load generator (bench process)';
  if (SERVERS.has(command)) return command;
  if (command !== 'node') return null;
  const service = /dist\/apps\/([^/]+)\/src\/main\.js/.exec(cmdline);
  if (service) return service[1];
  const script = cmdline.split('\0').find((arg) => arg.endsWith('.mjs'));
  return script ? basename(script, '.mjs') : null;
}

/** Seconds of CPU (user + system) per group, summed over its live processes; `overrides` names pids. */
export function cpuSnapshot(overrides = {}) {
  let pids;
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const byPid = new Map(Object.entries(overrides).map(([group, pid]) => [pid, group]));
  const seconds = {};
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
    const group = byPid.get(pid) ?? groupOf(pid, command, cmdline);
    if (!group) continue;
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "(comm)".
    seconds[group] = (seconds[group] ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  }
  return seconds;
}

/** CPU seconds each group spent between two snapshots. */
export function cpuSpent(before, after) {
  if (!before || !after) return null;
  const spent = {};
  for (const [group, seconds] of Object.entries(after)) spent[group] = seconds - (before[group] ?? 0);
  return spent;
}
