// The quick start: installs and builds when needed, makes sure PostgreSQL, Redis and NATS are
// up, applies migrations, then runs every service in the foreground until Ctrl-C.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, migrate, startSystem } from './system.mjs';
import { provisionDemo } from './quickstart-demo.mjs';

const sh = (command, args) => execFileSync(command, args, { cwd: ROOT, stdio: 'inherit' });

if (!existsSync(join(ROOT, 'node_modules'))) sh('npm', ['ci']);
sh('npm', ['run', '--silent', 'build']);
sh('bash', ['scripts/ensure-infra.sh']);

// Local defaults: the admin API is off without ADMIN_TOKEN, so the quick start sets a development one.
const env = { ...process.env, ADMIN_TOKEN: process.env.ADMIN_TOKEN || 'local-dev-admin-token' };
await migrate(env);
const system = await startSystem({ env });

const gateway = `http://127.0.0.1:${system.ports.gateway}`;
const demo = await provisionDemo(gateway, env.ADMIN_TOKEN).catch(async (error) => {
  await system.stop();
  throw error;
});
console.log(`
chatbot-keys is up.
  console      ${gateway}/console/   (sign in with the owner key below)
  gateway      ${gateway}   (data plane /api/v1, management /v1, admin /admin/v1)
  admin token  ${env.ADMIN_TOKEN}
  demo chatbot upstream http://127.0.0.1:${system.ports['demo-upstream']}

Demo tenant (the same on every start; a new owner key each time, the previous one revoked):
  account      ${demo.accountId}   Demo Agency, plan entry
  chatbot      ${demo.chatbotId}   Support bot
  owner key    ${demo.ownerKey}
Ctrl-C stops everything.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    system.stop().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
for (const { name, child } of system.services) {
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`${name} stopped (${signal ?? code}); stopping the rest`);
    stopping = true;
    void system.stop().then(() => process.exit(1));
  });
}
