// Live memory of a process the bench started: a full garbage collection through the inspector
// before reading its memory, so what is measured is what the process holds, not what its
// collector has not reclaimed yet; and the process's peak RSS, to compare with its k8s limit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'undici';
import { freePort, ROOT } from '../system.mjs';

/**
 * The gateway's V8 heap bound as deployed (NODE_OPTIONS in k8s/base/gateway.yaml), so the bench's
 * gateway collects as a deployed one does. Throws when the manifest no longer sets it.
 */
export function deployedGatewayNodeOptions() {
  const manifest = readFileSync(join(ROOT, 'k8s/base/gateway.yaml'), 'utf8');
  const match = /- name: NODE_OPTIONS\s+value: "?([^"\n]+)"?/.exec(manifest);
  if (!match) throw new Error('k8s/base/gateway.yaml sets no NODE_OPTIONS for the gateway');
  return match[1].trim().split(/\s+/);
}

/** Node flags that open an inspector on a port of its own (loopback only). */
export async function inspectable() {
  const port = await freePort();
  return { port, nodeArgs: [`--inspect=127.0.0.1:${port}`] };
}

/** A full, blocking garbage collection in the process whose inspector listens on `port`. */
export async function collectGarbage(port) {
  const session = await inspectorSession(port);
  try {
    for (let i = 0; i < 2; i++) await session.call('HeapProfiler.collectGarbage');
  } finally {
    session.close();
  }
}

/**
 * A V8 CPU profile of the process whose inspector listens on `port`, taken while `work` runs:
 * `{ result, profile }` (the profile as a .cpuprofile holds it).
 */
export async function cpuProfileDuring(port, work) {
  const session = await inspectorSession(port);
  try {
    await session.call('Profiler.enable');
    await session.call('Profiler.start');
    const result = await work();
    const { profile } = await session.call('Profiler.stop');
    return { result, profile };
  } finally {
    session.close();
  }
}

async function inspectorSession(port) {
  const [target] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', reject, { once: true });
  });
  let nextId = 1;
  return {
    call(method, params = {}) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const onMessage = (event) => {
          const message = JSON.parse(event.data);
          if (message.id !== id) return;
          socket.removeEventListener('message', onMessage);
          if (message.error) reject(new Error(`${method}: ${message.error.message}`));
          else resolve(message.result);
        };
        socket.addEventListener('message', onMessage);
        socket.send(JSON.stringify({ id, method, params }));
      });
    },
    close: () => socket.close(),
  };
}

/** The highest resident set the process has had (VmHWM), in bytes; undefined where /proc is not. */
export function peakRssBytes(pid) {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kib ? Number(kib[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
